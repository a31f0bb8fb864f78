package allocation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ckptkit/ckpt/kubelet/internal/fastpathtest"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/resource"
)

// fastCase is one input for the differential tests. fast says what the
// fast path must do with it: "accept", "decline", or "" (either).
type fastCase struct {
	reason string
	data   []byte
	fast   string
}

// testdataFiles lists every file under testdata/ (kubelet-generated,
// kubelet-vectors, cases) and this package's testdata: the fast path must
// agree with the slow one on every file of every kind. The allocation
// files kubelet generated must take the fast path.
func testdataFiles(t testing.TB) []fastCase {
	t.Helper()
	var out []fastCase
	for _, root := range []string{filepath.Join(testdata, "kubelet-generated"), filepath.Join(testdata, "kubelet-vectors"),
		filepath.Join(testdata, "cases"), "testdata"} {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			c := fastCase{reason: path, data: b}
			if strings.Contains(path, filepath.Join("kubelet-generated", "allocation")) {
				c.fast = "accept"
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d testdata files", len(out))
	}
	return out
}

// inner wraps an inner JSON document in a file with a matching checksum.
func inner(t *testing.T, data string) []byte {
	t.Helper()
	return []byte(dataFileJSON(t, data))
}

// rich is a value with every field kubelet writes, and a few it never does.
var rich = PodResourceCheckpointInfo{Entries: map[string]PodResourceInfo{
	"pod-a": {
		ContainerResources: map[string]ResourceRequirements{
			"app": {Limits: ResourceList{"cpu": "2", "memory": "1Gi"}, Requests: ResourceList{"cpu": "500m", "memory": "512Mi"},
				Claims: []ResourceClaim{{Name: "gpu", Request: "one"}, {Name: "net"}}},
			"side": {Requests: ResourceList{"cpu": "0", "ephemeral-storage": "1G"}},
		},
		PodLevelResources:    &ResourceRequirements{Limits: ResourceList{"cpu": "4"}},
		EmptyDirVolumeLimits: map[string]*Quantity{"cache": ptr(Quantity("1Gi")), "scratch": nil},
	},
	"pod-b": {ContainerResources: map[string]ResourceRequirements{}},
	"pod-c": {},
}}

func ptr[T any](v T) *T { return &v }

// syntheticCases are hand-written inputs around the fast path's edges.
func syntheticCases(t *testing.T) []fastCase {
	ok := func(reason, data string) fastCase {
		return fastCase{reason: reason, data: inner(t, data), fast: "accept"}
	}
	no := func(reason, data string) fastCase {
		return fastCase{reason: reason, data: inner(t, data), fast: "decline"}
	}
	ctr := func(res string) string {
		return `{"entries":{"p":{"ContainerResources":{"c":` + res + `},"PodLevelResources":null,"EmptyDirVolumeLimits":null}}}`
	}
	realistic := readFile(t, testdata, "kubelet-generated", "allocation", "realistic", AllocatedFileName)
	return []fastCase{
		{reason: "every field kubelet writes", data: mustEncodeBytes(t, rich), fast: "accept"},
		ok("no entries", `{}`),
		ok("empty entries map", `{"entries":{}}`),
		no("null entries", `{"entries":null}`),
		no("key in another letter case", `{"Entries":{}}`),
		no("field in another letter case", `{"entries":{"p":{"containerResources":null}}}`),
		no("unknown field", `{"entries":{"p":{"ContainerResources":null,"Extra":1}}}`),
		no("unknown top-level key", `{"entries":{},"allocationEntries":{}}`),
		no("1.32 data", `{"allocationEntries":{"p":{"c":{"requests":{"cpu":"1"}}}}}`),
		no("duplicate pod", `{"entries":{"p":{},"p":{}}}`),
		no("duplicate field", `{"entries":{"p":{"ContainerResources":{},"ContainerResources":{"c":{}}}}}`),
		no("duplicate resource", ctr(`{"requests":{"cpu":"1","cpu":"2"}}`)),
		ok("missing fields read as nil", `{"entries":{"p":{}}}`),
		ok("white space inside the data", `{ "entries" : { "p" : { "ContainerResources" : null } } }`),
		ok("empty limits map", ctr(`{"limits":{}}`)),
		no("null limits", ctr(`{"limits":null}`)),
		ok("empty claims", ctr(`{"claims":[]}`)),
		no("null claims", ctr(`{"claims":null}`)),
		ok("claim with an escaped quote", ctr(`{"claims":[{"name":"a\"b","request":"r"}]}`)),
		no("claim with an unknown field", ctr(`{"claims":[{"name":"a","x":"r"}]}`)),
		ok("non-canonical quantity", ctr(`{"requests":{"cpu":"1.5","memory":"1536Mi","x":"1e3","y":"0100m"}}`)),
		ok("quantity with spaces", ctr(`{"requests":{"cpu":" 1 "}}`)),
		no("unparsable quantity", ctr(`{"requests":{"cpu":"1.5.5"}}`)),
		no("unknown suffix", ctr(`{"requests":{"cpu":"1x"}}`)),
		no("empty quantity", ctr(`{"requests":{"cpu":""}}`)),
		no("escaped quantity", ctr(`{"requests":{"cpu":"\u0031"}}`)),
		no("escaped quote in a quantity", ctr(`{"requests":{"cpu":"1\"m"}}`)),
		no("bare number quantity", ctr(`{"requests":{"cpu":2}}`)),
		no("null quantity", ctr(`{"requests":{"cpu":null}}`)),
		ok("volume without a limit", `{"entries":{"p":{"EmptyDirVolumeLimits":{"v":null,"w":"1Gi"}}}}`),
		no("unparsable volume limit", `{"entries":{"p":{"EmptyDirVolumeLimits":{"v":"lots"}}}}`),
		ok("pod-level resources", `{"entries":{"p":{"PodLevelResources":{"requests":{"cpu":"1"}}}}}`),
		no("null pod entry", `{"entries":{"p":null}}`),
		no("data with trailing bytes", `{"entries":{}}x`),
		no("data not JSON", `{`),
		no("empty data", ``),
		no("non-ASCII in the data", `{"entries":{"pé":{}}}`),
		ok("an HTML character left raw in the data (encoding/json reads it the same)", `{"entries":{"p<":{}}}`),
		{reason: "checksum off by one", data: bumpChecksum(t, realistic, 1), fast: "decline"},
		{reason: "checksum above 32 bits", data: bumpChecksum(t, realistic, 1<<32), fast: "decline"},
		{reason: "checksum missing", data: []byte(`{"data":"{}"}`), fast: "decline"},
		{reason: "checksum first", data: []byte(`{"checksum":1,"data":"{}"}`), fast: "decline"},
		{reason: "white space in the envelope (encoding/json reads it the same)", data: bytes.Replace(realistic, []byte(`"data":`), []byte(`"data": `), 1),
			fast: "accept"},
		{reason: "key in another letter case", data: bytes.Replace(realistic, []byte(`"data"`), []byte(`"Data"`), 1),
			fast: "decline"},
		{reason: "trailing new line", data: append(bytes.Clone(realistic), '\n'), fast: "accept"},
		{reason: "trailing form feed", data: append(bytes.Clone(realistic), '\f'), fast: "decline"},
		{reason: "trailing bytes", data: append(bytes.Clone(realistic), `{}`...), fast: "decline"},
		{reason: "truncated", data: realistic[:len(realistic)-1], fast: "decline"},
		{reason: "checksum with a leading zero", data: []byte(`{"data":"{}","checksum":01}`), fast: "decline"},
		{reason: "checksum over 64 bits", data: []byte(`{"data":"{}","checksum":18446744073709551616}`), fast: "decline"},
		{reason: "float checksum", data: []byte(`{"data":"{}","checksum":1.0}`), fast: "decline"},
		{reason: "escaped solidus in the data", data: []byte(`{"data":"{\/}","checksum":1}`), fast: "decline"},
	}
}

func mustEncodeBytes(t *testing.T, info PodResourceCheckpointInfo) []byte {
	t.Helper()
	return []byte(mustEncode(t, info))
}

// setChecksum replaces the checksum of a file in Marshal's form (or
// returns nil if data is not in that form).
func setChecksum(data []byte, v uint64) []byte {
	b := bumpChecksum(nil, data, 0)
	if b == nil {
		return nil
	}
	i := bytes.LastIndex(b, []byte(`","checksum":`)) + len(`","checksum":`)
	n := i
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	return append(append(b[:i:i], strconv.FormatUint(v, 10)...), b[n:]...)
}

// bumpChecksum adds delta to the checksum of a file in Marshal's form (or
// returns nil if data is not in that form).
func bumpChecksum(t testing.TB, data []byte, delta uint64) []byte {
	const mid = `","checksum":`
	i := bytes.LastIndex(data, []byte(mid))
	if i < 0 {
		return nil
	}
	rest := data[i+len(mid):]
	n := 0
	for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	if err != nil {
		return nil
	}
	out := append(bytes.Clone(data[:i+len(mid)]), strconv.FormatUint(v+delta, 10)...)
	return append(out, rest[n:]...)
}

// paths are this package's decoders, for fastpathtest.
var paths = fastpathtest.Paths[*PodResourceCheckpointInfo]{
	Fast:   decodeFast,
	Slow:   decodeSlow,
	Decode: Decode,
	Valid: func(data []byte) (bool, string) {
		r := Examine(data)
		return r.Verdict == check.Valid && r.Format == FormatData133, fmt.Sprintf("%s %s (%v)", r.Verdict, r.Format, r.Err)
	},
}

// agree holds the fast path to the full one on data (fastpathtest.Agree).
func agree(t *testing.T, data []byte) bool {
	t.Helper()
	return fastpathtest.Agree(t, paths, data)
}

func errString(err error) string { return fastpathtest.ErrString(err) }

func TestDecodeFastAgrees(t *testing.T) {
	var cases []fastpathtest.Case
	for _, tc := range append(testdataFiles(t), syntheticCases(t)...) {
		cases = append(cases, fastpathtest.Case{Reason: tc.reason, Data: tc.data, Fast: tc.fast})
	}
	fastpathtest.Run(t, paths, cases)
}

func TestDecodeFastMutatedChecksum(t *testing.T) {
	for _, tc := range testdataFiles(t) {
		if _, ok := decodeFast(tc.data); !ok {
			continue
		}
		t.Run(tc.reason, func(t *testing.T) {
			for _, delta := range []uint64{1, 1 << 31, 1 << 32, 1<<64 - 1} {
				bad := bumpChecksum(t, tc.data, delta)
				if _, ok := decodeFast(bad); ok {
					t.Errorf("checksum +%d accepted", delta)
				}
				if _, err := Decode(bad); !errors.Is(err, check.ErrCorrupt) {
					t.Errorf("checksum +%d: Decode = %v, want ErrCorrupt", delta, err)
				}
			}
		})
	}
}

// TestCanonicalQuantity: the forms the fast check accepts all parse, and
// the rest go to the parser.
func TestCanonicalQuantity(t *testing.T) {
	for _, tc := range []struct {
		reason string
		s      string
		want   bool
	}{
		{reason: "zero", s: "0", want: true},
		{reason: "milli", s: "100m", want: true},
		{reason: "plain", s: "2", want: true},
		{reason: "binary", s: "128Mi", want: true},
		{reason: "decimal", s: "1G", want: true},
		{reason: "largest binary", s: "999999999999999999Ei", want: true},
		{reason: "19 digits", s: "1000000000000000000", want: false},
		{reason: "leading zero", s: "01", want: false},
		{reason: "zero with a suffix", s: "0m", want: false},
		{reason: "fraction", s: "1.5", want: false},
		{reason: "exponent", s: "1e3", want: false},
		{reason: "sign", s: "-1", want: false},
		{reason: "unknown suffix", s: "1Xi", want: false},
		{reason: "empty", s: "", want: false},
		{reason: "space", s: " 1", want: false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if got := canonicalQuantity(tc.s); got != tc.want {
				t.Errorf("canonicalQuantity(%q) = %v, want %v", tc.s, got, tc.want)
			}
			if tc.want {
				if _, err := resource.ParseQuantity(tc.s); err != nil {
					t.Errorf("ParseQuantity(%q): %v", tc.s, err)
				}
			}
		})
	}
}

// TestCanonicalQuantityParses: every short string the fast check accepts
// parses.
func TestCanonicalQuantityParses(t *testing.T) {
	n := 0
	for _, num := range []string{"0", "1", "10", "999999999999999999"} {
		for a := 0x1f; a < 0x7f; a++ {
			for b := 0x1f; b < 0x7f; b++ {
				s := num
				if a >= 0x20 {
					s += string(rune(a))
				}
				if b >= 0x20 {
					s += string(rune(b))
				}
				if !canonicalQuantity(s) {
					continue
				}
				n++
				if _, err := resource.ParseQuantity(s); err != nil {
					t.Errorf("canonicalQuantity(%q) but ParseQuantity: %v", s, err)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("nothing accepted")
	}
}

func TestEncodeFastMatchesMarshal(t *testing.T) {
	many := map[string]ResourceRequirements{}
	list := ResourceList{}
	for i := range 12 {
		many["c"+strconv.Itoa(i)] = ResourceRequirements{Requests: ResourceList{"cpu": "1"}}
		list["r"+strconv.Itoa(i)] = "1"
	}
	one := func(p PodResourceInfo) PodResourceCheckpointInfo {
		return PodResourceCheckpointInfo{Entries: map[string]PodResourceInfo{"p": p}}
	}
	for _, tc := range []struct {
		reason string
		info   PodResourceCheckpointInfo
		fast   bool
	}{
		{reason: "nothing", info: PodResourceCheckpointInfo{}, fast: true},
		{reason: "empty entries are omitted", info: PodResourceCheckpointInfo{Entries: map[string]PodResourceInfo{}}, fast: true},
		{reason: "every field", info: rich, fast: true},
		{reason: "more than eight containers and resources", info: one(PodResourceInfo{ContainerResources: many,
			PodLevelResources: &ResourceRequirements{Limits: list}}), fast: true},
		{reason: "keys Marshal escapes", info: PodResourceCheckpointInfo{Entries: map[string]PodResourceInfo{
			"<a&b>": {}, "a\u2028b": {}, "bad\xffutf8": {}, "é": {}, "\"q\\": {}}}, fast: true},
		{reason: "claim names Marshal escapes", info: one(PodResourceInfo{ContainerResources: map[string]ResourceRequirements{
			"c": {Claims: []ResourceClaim{{Name: "<x>", Request: "\n"}}}}}), fast: true},
		{reason: "quantity Marshal escapes", info: one(PodResourceInfo{ContainerResources: map[string]ResourceRequirements{
			"c": {Requests: ResourceList{"cpu": "<1>"}}}})},
		{reason: "quantity Marshal rejects", info: one(PodResourceInfo{ContainerResources: map[string]ResourceRequirements{
			"c": {Requests: ResourceList{"cpu": `1"`}}}})},
		{reason: "non-ASCII quantity", info: one(PodResourceInfo{EmptyDirVolumeLimits: map[string]*Quantity{"v": ptr(Quantity("1é"))}})},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			want, werr := encodeSlow(tc.info)
			got, gerr := Encode(tc.info)
			if !bytes.Equal(got, want) || errString(gerr) != errString(werr) {
				t.Fatalf("Encode = %s, %v\nMarshal %s, %v", got, gerr, want, werr)
			}
			if _, ok := encodeFast(&tc.info); ok != tc.fast {
				t.Errorf("encodeFast ok = %v, want %v", ok, tc.fast)
			}
		})
	}
}

// FuzzDecodeFast: for any bytes, the fast path accepts only what the slow
// path accepts, reads it the same, and never accepts a changed checksum.
func FuzzDecodeFast(f *testing.F) {
	files := testdataFiles(f)
	for _, tc := range files {
		f.Add(tc.data, uint64(0))
		if b := bumpChecksum(f, tc.data, 1); b != nil {
			f.Add(b, uint64(1<<32))
		}
	}
	f.Add([]byte(`{"data":"{\"entries\":{\"p\":{\"EmptyDirVolumeLimits\":{\"v\":null}}}}","checksum":1}`), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, delta uint64) {
		// Most mutations of the data string break its checksum; the same
		// bytes with the checksum recomputed exercise the data reader.
		var df dataFile
		if json.Unmarshal(data, &df) == nil {
			if fixed := setChecksum(data, uint64(checksumOf(df.Data))); fixed != nil {
				agree(t, fixed)
			}
		}
		if !agree(t, data) {
			return
		}
		info, _ := decodeFast(data)
		if out, ok := encodeFast(info); ok {
			if want, err := encodeSlow(*info); err != nil || !bytes.Equal(out, want) {
				t.Fatalf("encodeFast differs from Marshal: %v", err)
			}
		}
		if delta == 0 {
			delta = 1
		}
		bad := bumpChecksum(t, data, delta)
		if bad == nil {
			t.Fatal("an accepted file has no checksum in Marshal's form")
		}
		if _, ok := decodeFast(bad); ok {
			t.Fatalf("checksum +%d accepted", delta)
		}
	})
}
