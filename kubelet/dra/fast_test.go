package dra

import (
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"

	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// draFiles returns every DRA checkpoint under testdata: the
// kubelet-generated files, the kubelet vectors and the cases.
func draFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		filepath.Join("kubelet-generated", "dra", "*", FileName),
		filepath.Join("kubelet-vectors", "dra", "*"),
		filepath.Join("cases", "*", FileName+"*"),
		filepath.Join("cases", "*", "*", FileName+"*"),
	} {
		m, err := filepath.Glob(filepath.Join(testdata, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d DRA files under %s", len(files), testdata)
	}
	return files
}

// encodeMarshal is Encode through encoding/json, the reference the
// hand-written encoder must match byte for byte.
func encodeMarshal(cd CheckpointData) ([]byte, error) {
	if cd.Kind == "" {
		cd.Kind = CheckpointKind
	}
	if cd.APIVersion == "" {
		cd.APIVersion = CheckpointAPIVersion
	}
	inner, err := json.Marshal(cd)
	if err != nil {
		return nil, err
	}
	return json.Marshal(fileV1{Data: string(inner), Checksum: crc32.ChecksumIEEE(inner)})
}

// checkFastAgrees runs both paths of Decode on data and fails when the
// fast path accepts what the slow path rejects or reads differently. It
// returns whether the fast path accepted.
func checkFastAgrees(t testing.TB, data []byte) bool {
	t.Helper()
	fast, ok := decodeFast(data)
	slow, err := decodeSlow(data)
	if !ok {
		if fast != nil {
			t.Fatalf("declining fast path returned %+v", fast)
		}
		return false
	}
	if err != nil {
		t.Fatalf("fast path accepted what the slow path rejects: %v", err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast and slow paths disagree\nfast %#v\nslow %#v", fast, slow)
	}
	return true
}

// checkMutatedChecksum rebuilds an accepted file with another checksum and
// fails if the fast path accepts it or the slow path does not call it
// corrupt.
func checkMutatedChecksum(t testing.TB, data []byte) {
	t.Helper()
	inner, sum, ok := scanEnvelope(data, nil)
	if !ok {
		t.Fatal("accepted file has no envelope")
	}
	for _, bad := range []uint32{sum ^ 1, sum + 1, sum ^ 0x80000000, 0} {
		if bad == sum {
			continue
		}
		mut := fmt.Appendf(canonjson.AppendString([]byte(`{"Data":`), inner), `,"Checksum":%d}`, bad)
		if _, ok := decodeFast(mut); ok {
			t.Fatalf("fast path accepted checksum %d for a file whose checksum is %d", bad, sum)
		}
		if _, err := Decode(mut); !errors.Is(err, check.ErrCorrupt) {
			t.Fatalf("Decode of checksum %d (want %d): %v, want corrupt", bad, sum, err)
		}
	}
}

// withSum wraps the Data JSON inner in an envelope with its right checksum.
func withSum(inner string) string {
	q, _ := json.Marshal(inner)
	return fmt.Sprintf(`{"Data":%s,"Checksum":%d}`, q, crc32.ChecksumIEEE([]byte(inner)))
}

func TestDecodeFastAgreesOnTestdata(t *testing.T) {
	for _, f := range draFiles(t) {
		rel, _ := filepath.Rel(testdata, f)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			accepted := checkFastAgrees(t, data)
			_, slowErr := decodeSlow(data)
			// Every file kubelet or its tests wrote that decodes is
			// canonical, so the fast path must take it.
			if slowErr == nil && !accepted {
				t.Errorf("fast path declined a file the slow path decodes")
			}
			if accepted {
				checkMutatedChecksum(t, data)
			}
		})
	}
}

func TestDecodeFastAgreesOnEdgeCases(t *testing.T) {
	const kindAPI = `"kind":"DRACheckpoint","apiVersion":"checkpoint.dra.kubelet.k8s.io/v1"`
	claim := `{"ClaimUID":"u","ClaimName":"c","Namespace":"n","PodUIDs":{"p":{}},"DriverState":{"d":{"Devices":[` +
		`{"PoolName":"pool","DeviceName":"dev","ShareID":null,"RequestNames":["r"],"CDIDeviceIDs":["cdi"]}]}}}`
	for _, tc := range []struct {
		reason string
		data   string
		accept bool // whether the fast path must take it (it must agree whenever it does)
	}{
		{reason: "kubelet's empty checkpoint: a null list gives a nil slice",
			data: withSum(`{` + kindAPI + `,"ClaimInfoStateList":null}`), accept: true},
		{reason: "an empty list gives an empty non-nil slice",
			data: withSum(`{` + kindAPI + `,"ClaimInfoStateList":[]}`), accept: true},
		{reason: "no list at all", data: withSum(`{` + kindAPI + `}`), accept: true},
		{reason: "no kind and apiVersion (kubelet does not check them)", data: withSum(`{"ClaimInfoStateList":[]}`), accept: true},
		{reason: "another apiVersion", data: withSum(`{"kind":"DRACheckpoint","apiVersion":"v0","ClaimInfoStateList":[]}`), accept: true},
		{reason: "one claim", data: withSum(`{` + kindAPI + `,"ClaimInfoStateList":[` + claim + `]}`), accept: true},
		{reason: "a ShareID gives a pointer",
			data: withSum(`{"ClaimInfoStateList":[` + strings.Replace(claim, `"ShareID":null`, `"ShareID":"s"`, 1) + `]}`), accept: true},
		{reason: "an empty ShareID gives a pointer to an empty string",
			data: withSum(`{"ClaimInfoStateList":[` + strings.Replace(claim, `"ShareID":null`, `"ShareID":""`, 1) + `]}`), accept: true},
		{reason: "null and empty lists and maps keep nil and empty apart",
			data: withSum(`{"ClaimInfoStateList":[{"ClaimUID":"u","ClaimName":"","Namespace":"","PodUIDs":{},"DriverState":{` +
				`"a":{"Devices":null,"skipNodeOperations":[]},"b":{"Devices":[],"skipNodeOperations":null},` +
				`"c":{"Devices":[{"PoolName":"","DeviceName":"","ShareID":null,"RequestNames":[],"CDIDeviceIDs":null}]}}},` +
				`{"ClaimUID":"v","ClaimName":"","Namespace":"","PodUIDs":null,"DriverState":null}]}`), accept: true},
		{reason: "skipNodeOperations", data: withSum(`{"ClaimInfoStateList":[` +
			strings.Replace(claim, `]}}}`, `],"skipNodeOperations":["NodeUnprepareResources"]}}}`, 1) + `]}`), accept: true},
		{reason: "fields missing from a struct stay zero",
			data: withSum(`{"ClaimInfoStateList":[{"DriverState":{"d":{}}},{}]}`), accept: true},
		{reason: "white space inside and outside",
			data: " {\n\"Data\" : " + strings.TrimPrefix(withSum(`{ "ClaimInfoStateList" : [ ] }`), `{"Data":`) + "\n", accept: true},
		{reason: "keys in another order", data: `{"Checksum":` + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(`{}`)))) + `,"Data":"{}"}`, accept: true},
		{reason: "escapes Marshal writes in a string", data: withSum(`{"ClaimInfoStateList":[` +
			strings.Replace(claim, `"ClaimName":"c"`, `"ClaimName":"a<b>&\u2028é\"\\\n"`, 1) + `]}`), accept: true},
		{reason: "an escaped slash and a \\u escape in the outer string",
			data:   `{"Data":"{\u0022kind\u0022:\"a\/b\"}","Checksum":` + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(`{"kind":"a/b"}`)))) + `}`,
			accept: true},

		{reason: "checksum mismatch is corrupt, left to the slow path", data: strings.Replace(withSum(`{}`), `"Checksum":`, `"Checksum":1`, 1)},
		{reason: "checksum wider than uint32", data: `{"Data":"{}","Checksum":4294967296}`},
		{reason: "checksum with a leading zero", data: `{"Data":"{}","Checksum":0` + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(`{}`)))) + `}`},
		{reason: "negative checksum", data: `{"Data":"","Checksum":-0}`},
		{reason: "checksum as a float", data: `{"Data":"{}","Checksum":` + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(`{}`)))) + `.0}`},
		{reason: "empty Data", data: `{"Data":"","Checksum":0}`},
		{reason: "missing Checksum", data: `{"Data":"{}"}`},
		{reason: "missing Data", data: `{"Checksum":0}`},
		{reason: "Data in another case (encoding/json matches it)", data: strings.Replace(withSum(`{}`), `"Data"`, `"data"`, 1)},
		{reason: "Checksum in another case", data: strings.Replace(withSum(`{}`), `"Checksum"`, `"checksum"`, 1)},
		{reason: "duplicate Data", data: strings.Replace(withSum(`{}`), `{"Data":`, `{"Data":"x","Data":`, 1)},
		{reason: "unknown outer key", data: strings.Replace(withSum(`{}`), `{"Data":`, `{"Other":1,"Data":`, 1)},
		{reason: "escaped outer key", data: strings.Replace(withSum(`{}`), `"Data"`, `"D\u0061ta"`, 1)},
		{reason: "trailing bytes", data: withSum(`{}`) + "x"},
		{reason: "two documents", data: withSum(`{}`) + withSum(`{}`)},
		{reason: "byte-order mark", data: "\xef\xbb\xbf" + withSum(`{}`)},
		{reason: "truncated", data: strings.TrimSuffix(withSum(`{}`), "}")},
		{reason: "invalid UTF-8 in Data (encoding/json replaces it)", data: `{"Data":"{\"kind\":\"` + "\xff" + `\"}","Checksum":0}`},
		{reason: "surrogate pair escape in Data", data: withSum(`{"kind":"😀"}`)[:9] + `{\"kind\":\"\ud83d\ude00\"}","Checksum":` +
			strconv.Itoa(int(crc32.ChecksumIEEE([]byte(`{"kind":"😀"}`)))) + `}`},
		{reason: "raw control character in Data", data: `{"Data":"{` + "\n" + `}","Checksum":0}`},
		{reason: "Data JSON with trailing bytes", data: withSum(`{} x`)},
		{reason: "Data JSON not an object", data: withSum(`[]`)},
		{reason: "Data key in another case", data: withSum(`{"claimInfoStateList":[]}`)},
		{reason: "unknown Data key (kubelet ignores it, Examine notes it)", data: withSum(`{"Entries":[]}`)},
		{reason: "duplicate Data key", data: withSum(`{"ClaimInfoStateList":[` + claim + `],"ClaimInfoStateList":null}`)},
		{reason: "duplicate claim key", data: withSum(`{"ClaimInfoStateList":[{"ClaimUID":"a","ClaimUID":"b"}]}`)},
		{reason: "null kind (encoding/json leaves the string as it was)", data: withSum(`{"kind":null}`)},
		{reason: "null claim", data: withSum(`{"ClaimInfoStateList":[null]}`)},
		{reason: "null driver state", data: withSum(`{"ClaimInfoStateList":[{"DriverState":{"d":null}}]}`)},
		{reason: "null pod value", data: withSum(`{"ClaimInfoStateList":[{"PodUIDs":{"p":null}}]}`)},
		{reason: "pod value with members (encoding/json ignores them)", data: withSum(`{"ClaimInfoStateList":[{"PodUIDs":{"p":{"x":1}}}]}`)},
		{reason: "duplicate pod", data: withSum(`{"ClaimInfoStateList":[{"PodUIDs":{"p":{},"p":{}}}]}`)},
		{reason: "duplicate driver", data: withSum(`{"ClaimInfoStateList":[{"DriverState":{"d":{},"d":{"Devices":[]}}}]}`)},
		{reason: "escaped map key", data: withSum(`{"ClaimInfoStateList":[{"PodUIDs":{"\u0070":{}}}]}`)},
		{reason: "number where a string belongs", data: withSum(`{"ClaimInfoStateList":[{"ClaimUID":1}]}`)},
		{reason: "null device name", data: withSum(`{"ClaimInfoStateList":[` + strings.Replace(claim, `"DeviceName":"dev"`, `"DeviceName":null`, 1) + `]}`)},
		{reason: "unknown device key", data: withSum(`{"ClaimInfoStateList":[` + strings.Replace(claim, `"ShareID":null`, `"ShareId":null`, 1) + `]}`)},
		{reason: "null request name", data: withSum(`{"ClaimInfoStateList":[` + strings.Replace(claim, `["r"]`, `[null]`, 1) + `]}`)},
		{reason: "legacy 1.30 format", data: `{"version":"v1","entries":null,"checksum":1}`},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			accepted := checkFastAgrees(t, []byte(tc.data))
			if tc.accept && !accepted {
				_, err := decodeSlow([]byte(tc.data))
				t.Fatalf("fast path declined (slow path: %v)", err)
			}
			if !tc.accept && accepted {
				t.Fatal("fast path accepted a case it should leave to the slow path")
			}
			if accepted {
				checkMutatedChecksum(t, []byte(tc.data))
			}
		})
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, file := range draFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8<<10 {
			// The realistic file (47 KB) stalls the coverage-guided
			// mutator; TestDecodeFastAgreesOnTestdata covers it.
			continue
		}
		f.Add(data)
		if inner, sum, ok := scanEnvelope(data, nil); ok {
			f.Add(fmt.Appendf(canonjson.AppendString([]byte(`{"Data":`), inner), `,"Checksum":%d}`, sum^1))
		}
	}
	f.Add([]byte(withSum(`{"ClaimInfoStateList":[{"PodUIDs":{},"DriverState":{"d":{"Devices":[],"skipNodeOperations":[]}}}]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkFastAgrees(t, data) {
			checkMutatedChecksum(t, data)
		}
	})
}

// TestDecodeConcurrent decodes from several goroutines at once (the Data
// buffers are pooled): every result must equal the slow path's, and stay
// equal after later decodes reuse the buffers.
func TestDecodeConcurrent(t *testing.T) {
	data := readFile(t, "kubelet-generated", "dra", "realistic", FileName)
	want, err := decodeSlow(data)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	results := make([]*CheckpointData, n*4)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for i := range 4 {
				cd, err := Decode(data)
				if err != nil {
					t.Error(err)
					return
				}
				results[g*4+i] = cd
			}
		})
	}
	wg.Wait()
	for i, cd := range results {
		if !reflect.DeepEqual(cd, want) {
			t.Fatalf("result %d differs from the slow path's", i)
		}
	}
}
