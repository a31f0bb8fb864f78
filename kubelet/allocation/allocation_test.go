package allocation

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
)

var testdata = filepath.Join("..", "..", "testdata")

type manifestEntry struct {
	File        string `json:"file"`
	Consumer    string `json:"consumer"`
	Expect      string `json:"expect"`
	KindVersion string `json:"kind_version"`
	HashInput   string `json:"hash_input"`
}

func readFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formatOfKindVersion maps the manifest's kind_version to the Format that
// Examine reports.
var formatOfKindVersion = map[string]string{
	"allocation/allocated_pods_state(1.33+)":                   FormatData133,
	"statusmanager/pod_status_manager_state(1.32 data-string)": FormatData132,
}

var verdictOfExpect = map[string][]check.Verdict{
	"valid":   {check.Valid, check.Unverified},
	"corrupt": {check.Corrupt},
	"error":   {check.Invalid},
}

func TestManifestVectors(t *testing.T) {
	var all []manifestEntry
	if err := json.Unmarshal(readFile(t, testdata, "kubelet-vectors", "manifest.json"), &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if e.Consumer != "allocation" {
			continue
		}
		n++
		t.Run(e.File, func(t *testing.T) {
			data := readFile(t, testdata, "kubelet-vectors", e.File)
			if !Sniff(data) {
				t.Error("Sniff = false")
			}
			r := Examine(data)
			if !verdictIn(r.Verdict, verdictOfExpect[e.Expect]) {
				t.Fatalf("verdict %s, want %v (err %v)", r.Verdict, verdictOfExpect[e.Expect], r.Err)
			}
			want, ok := formatOfKindVersion[e.KindVersion]
			if !ok {
				t.Fatalf("unmapped kind_version %q", e.KindVersion)
			}
			if r.Format != want {
				t.Errorf("format %q, want %q", r.Format, want)
			}
			if e.HashInput != "" && (len(r.Checksums) != 1 || r.Checksums[0].HashedText != e.HashInput) {
				t.Errorf("hashed text differs from hash_input %q", e.HashInput)
			}
		})
	}
	if n == 0 {
		t.Fatal("no manifest entries for allocation")
	}
}

func TestKubeletGeneratedRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "kubelet-generated", "allocation", "*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files (%v)", err)
	}
	files = append(files, filepath.Join(testdata, "kubelet-vectors", "allocation", "derived-allocated-writer.json"))
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data := readFile(t, f)
			if r := Examine(data); r.Verdict != check.Valid || r.Format != FormatData133 {
				t.Fatalf("Examine: %s %s (%v)", r.Verdict, r.Format, r.Err)
			}
			info, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(*info)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("Encode(Decode(file)) differs from the file (%d vs %d bytes)", len(out), len(data))
			}
		})
	}
}

// TestCaseB25ThreeDiagnoses: the intact, trailing and truncated files get
// three distinct diagnoses.
func TestCaseB25ThreeDiagnoses(t *testing.T) {
	dir := filepath.Join(testdata, "cases", "B25-alloc-trailing-garbage-after-reboot")
	for _, tc := range []struct {
		reason  string
		sub     string
		verdict check.Verdict
		problem check.DecodeProblem
		detail  string
	}{
		{reason: "the valid file", sub: "intact", verdict: check.Valid},
		{reason: "a valid document followed by the tail of an older one", sub: "trailing", verdict: check.Invalid,
			problem: check.ProblemTrailing, detail: "valid document of 289 bytes followed by 23 trailing bytes"},
		{reason: "the first two thirds of the file", sub: "truncated", verdict: check.Invalid, problem: check.ProblemTruncated,
			detail: "truncated"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			data := readFile(t, dir, tc.sub, AllocatedFileName)
			if !Sniff(data) {
				t.Error("Sniff = false")
			}
			r := Examine(data)
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (%v)", r.Verdict, tc.verdict, r.Err)
			}
			if tc.problem == "" {
				return
			}
			var de *check.DecodeError
			if !errors.As(r.Err, &de) || de.Problem != tc.problem || !errors.Is(r.Err, check.ErrInvalid) {
				t.Fatalf("err %v, want problem %s", r.Err, tc.problem)
			}
			if !strings.Contains(de.Detail, tc.detail) {
				t.Errorf("detail %q lacks %q", de.Detail, tc.detail)
			}
		})
	}
}

func TestCaseB27Empty(t *testing.T) {
	r := Examine(readFile(t, testdata, "cases", "B27-empty-truncated-after-hard-reboot", "empty", AllocatedFileName))
	var de *check.DecodeError
	if r.Verdict != check.Invalid || !errors.As(r.Err, &de) || de.Problem != check.ProblemEmpty {
		t.Fatalf("got %s %v, want invalid with problem empty", r.Verdict, r.Err)
	}
}

// TestStatus127DerivedVectors checks the 1.27-1.31 struct hash against
// files hashed with apimachinery's real resource.Quantity (see
// testdata/status-1.27-1.31/README.md).
func TestStatus127DerivedVectors(t *testing.T) {
	for _, tc := range []struct {
		reason   string
		file     string
		verdict  check.Verdict
		computed uint64
	}{
		{reason: "empty checkpoint", file: "empty.json", verdict: check.Valid, computed: 670531192},
		{reason: "int64 path with and without cached string, inf.Dec path", file: "typical.json", verdict: check.Valid,
			computed: 2228113841},
		{reason: "resize status entries", file: "resize-status.json", verdict: check.Valid, computed: 1212625485},
		{reason: "writer held 1000m, file says 1", file: "noncanonical-in-memory.json", verdict: check.Corrupt,
			computed: 1088255532},
		{reason: "writer held 1.5Gi, file says 1536Mi", file: "fractional-in-memory.json", verdict: check.Corrupt,
			computed: 3735781005},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine(readFile(t, "testdata", "status-1.27-1.31", tc.file))
			if r.Verdict != tc.verdict || r.Format != FormatStruct127 {
				t.Fatalf("got %s %s (%v), want %s %s", r.Verdict, r.Format, r.Err, tc.verdict, FormatStruct127)
			}
			if got := r.Checksums[0].Computed; got != tc.computed {
				t.Errorf("computed %d, want %d (what kubelet's reader computes)", got, tc.computed)
			}
			if tc.verdict == check.Corrupt && (!errors.Is(r.Err, check.ErrCorrupt) || r.Checksums[0].Note == "") {
				t.Errorf("err %v, note %q", r.Err, r.Checksums[0].Note)
			}
		})
	}
}

func TestExamineEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		data    string
		verdict check.Verdict
		format  string
		problem check.DecodeProblem
	}{
		{reason: "empty current checkpoint", data: mustEncode(t, PodResourceCheckpointInfo{}), verdict: check.Valid,
			format: FormatData133},
		{reason: "no data member", data: `{"checksum":0,"x":1}`, verdict: check.Corrupt, format: FormatStruct127},
		{reason: "unparsable quantity", data: `{"allocationEntries":{"p":{"c":{"cpu":"lots"}}},"checksum":1}`,
			verdict: check.Invalid, format: FormatStruct127, problem: check.ProblemContent},
		{reason: "data string is not JSON", data: `{"data":"{","checksum":1}`, verdict: check.Corrupt, format: FormatData133},
		{reason: "data string with trailing bytes and a matching checksum", data: dataFileJSON(t, `{"entries":{}}x`),
			verdict: check.Invalid, format: FormatData133, problem: check.ProblemTrailing},
		{reason: "unparsable quantity in the data string", data: dataFileJSON(t, `{"entries":{"p":{"ContainerResources":{"c":{"requests":{"cpu":"1.5.5"}}}}}}`),
			verdict: check.Invalid, format: FormatData133, problem: check.ProblemContent},
		{reason: "bare numbers are quantities too", data: dataFileJSON(t, `{"entries":{"p":{"ContainerResources":{"c":{"requests":{"cpu":2}}}}}}`),
			verdict: check.Valid, format: FormatData133},
		{reason: "wrong type for the checksum", data: `{"data":"{}","checksum":"1"}`, verdict: check.Invalid, problem: check.ProblemType},
		{reason: "zero-filled", data: "\x00\x00", verdict: check.Invalid, problem: check.ProblemZeroFilled},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine([]byte(tc.data))
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (err %v)", r.Verdict, tc.verdict, r.Err)
			}
			if tc.format != "" && r.Format != tc.format {
				t.Errorf("format %q, want %q", r.Format, tc.format)
			}
			if tc.problem != "" {
				var de *check.DecodeError
				if !errors.As(r.Err, &de) || de.Problem != tc.problem {
					t.Errorf("err %v, want problem %s", r.Err, tc.problem)
				}
			}
		})
	}
}

func TestDecodeCorruptReturnsContent(t *testing.T) {
	data := readFile(t, testdata, "cases", "B26-alloc-write-failure-ghost", AllocatedFileName)
	bad := bytes.Replace(data, []byte(`"checksum":2185213466`), []byte(`"checksum":2185213467`), 1)
	info, err := Decode(bad)
	if !errors.Is(err, check.ErrCorrupt) || info == nil || len(info.Entries) != 1 {
		t.Fatalf("Decode = %v, %v; want the entries and ErrCorrupt", info, err)
	}
	if _, err := Decode(readFile(t, testdata, "kubelet-vectors", "allocation", "status-1.32-allocationentries.json")); err != nil {
		t.Errorf("a 1.32 file verifies under 1.33+ rules (its entries are ignored): %v", err)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   bool
	}{
		{reason: "1.33+", data: `{"data":"{\"entries\":{}}","checksum":1}`, want: true},
		{reason: "1.32", data: `{"data":"{\"allocationEntries\":{}}","checksum":1}`, want: true},
		{reason: "empty data string", data: `{"data":"{}","checksum":1}`, want: true},
		{reason: "1.27-1.31", data: `{"allocationEntries":{},"checksum":1}`, want: true},
		{reason: "DRA 1.31+ with Entries inside", data: `{"Data":"{\"kind\":\"DRACheckpoint\",\"Entries\":[]}","Checksum":1}`, want: false},
		{reason: "DRA 1.31+", data: `{"Data":"{\"ClaimInfoStateList\":null}","Checksum":1}`, want: false},
		{reason: "cpu manager v4 has a data member too", data: `{"policyName":"none","data":"{\"policyName\":\"none\"}","dataChecksum":1}`, want: false},
		{reason: "dockershim has an object data", data: `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":1}`, want: false},
		{reason: "empty", data: ``, want: false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if got := Sniff([]byte(tc.data)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzExamine(f *testing.F) {
	for _, pattern := range []string{"kubelet-vectors/allocation/*", "cases/B2[56]*/*/allocated_pods_state",
		"cases/B2[56]*/allocated_pods_state", "kubelet-generated/allocation/small/*"} {
		files, _ := filepath.Glob(filepath.Join(testdata, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "status-1.27-1.31", "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Examine(data)
		if (r.Err == nil) != (r.Verdict == check.Valid || r.Verdict == check.Unverified) {
			t.Fatalf("verdict %s with err %v", r.Verdict, r.Err)
		}
		_ = Sniff(data)
		if info, err := Decode(data); err == nil {
			out, err := Encode(*info)
			if err != nil {
				t.Fatal(err)
			}
			if r := Examine(out); r.Verdict != check.Valid {
				t.Fatalf("re-encoded checkpoint is %s: %v", r.Verdict, r.Err)
			}
		}
	})
}

func mustEncode(t *testing.T, info PodResourceCheckpointInfo) string {
	t.Helper()
	b, err := Encode(info)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dataFileJSON wraps a data string in a file with a matching checksum.
func dataFileJSON(t *testing.T, data string) string {
	t.Helper()
	f := dataFile{Data: data}
	f.Checksum = checksumOf(data)
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func verdictIn(v check.Verdict, vs []check.Verdict) bool {
	for _, w := range vs {
		if v == w {
			return true
		}
	}
	return false
}

func checksumOf(s string) checksum.Checksum { return checksum.OfString(s) }
