package dra

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

var testdata = filepath.Join("..", "..", "testdata")

type manifestEntry struct {
	File        string `json:"file"`
	Consumer    string `json:"consumer"`
	Expect      string `json:"expect"`
	KindVersion string `json:"kind_version"`
	HashInput   string `json:"hash_input"`
	StoredVs    *struct {
		Stored   uint64 `json:"stored"`
		Computed uint64 `json:"computed"`
	} `json:"stored_vs_computed"`
}

func readFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formatOfKindVersion maps the manifest's kind_version to the Format that
// Examine reports. A corrupt legacy file is reported in the shape it most
// likely has, the last released one (1.30).
var formatOfKindVersion = map[string]string{
	"dra/v1-fnv(1.30 layout)":                              FormatFNV130,
	"dra/v1-fnv(pre-ResourceHandles layout)":               FormatFNVNoHandles,
	"dra/v1-fnv(master-only July 2024 DriverState layout)": FormatFNVMaster,
	"dra/checkpoint.dra.kubelet.k8s.io/v1(crc32)":          FormatCRC32,
	"dra/checkpoint.dra.kubelet.k8s.io/v0(crc32)":          FormatCRC32,
}

var verdictOfExpect = map[string][]check.Verdict{
	"valid":   {check.Valid, check.Unverified},
	"corrupt": {check.Corrupt},
	"error":   {check.Invalid},
}

func TestManifestVectors(t *testing.T) {
	var all []manifestEntry
	if err := json.Unmarshal(readFile(t, "kubelet-vectors", "manifest.json"), &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if e.Consumer != "dra" {
			continue
		}
		n++
		t.Run(e.File, func(t *testing.T) {
			data := readFile(t, "kubelet-vectors", e.File)
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
			if len(r.Checksums) != 1 {
				t.Fatalf("%d checksums, want 1", len(r.Checksums))
			}
			cs := r.Checksums[0]
			if e.HashInput != "" && cs.HashedText != e.HashInput {
				t.Errorf("hashed text differs from hash_input\n got: %q\nwant: %q", cs.HashedText, e.HashInput)
			}
			if e.StoredVs != nil && (cs.Stored != e.StoredVs.Stored || cs.Computed != e.StoredVs.Computed) {
				t.Errorf("stored/computed %d/%d, manifest says %d/%d", cs.Stored, cs.Computed, e.StoredVs.Stored, e.StoredVs.Computed)
			}
		})
	}
	if n == 0 {
		t.Fatal("no manifest entries for dra")
	}
}

func TestKubeletGeneratedRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "kubelet-generated", "dra", "*", FileName))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if r := Examine(data); r.Verdict != check.Valid || r.Format != FormatCRC32 {
				t.Fatalf("Examine: %s %s (%v)", r.Verdict, r.Format, r.Err)
			}
			cd, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(*cd)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("Encode(Decode(file)) differs from the file (%d vs %d bytes)", len(out), len(data))
			}
		})
	}
}

func TestWriterVectorsRoundTrip(t *testing.T) {
	for _, tc := range []struct{ reason, file string }{
		{reason: "1.37 writer with skipNodeOperations", file: "derived-crc32-writer-skipnodeops.json"},
		{reason: "store test output with ShareID null", file: "crc32-two-claims.json"},
		{reason: "store test output with a ShareID", file: "crc32-single-claim-share-id.json"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			data := readFile(t, "kubelet-vectors", "dra", tc.file)
			cd, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := Encode(*cd); err != nil || !bytes.Equal(out, data) {
				t.Errorf("round trip differs (%v):\n got %s\nwant %s", err, out, data)
			}
		})
	}
}

func TestCaseB17ShapeReported(t *testing.T) {
	for _, tc := range []struct {
		reason, file, format string
	}{
		{reason: "checksum made with the 1.29 ResourceHandle type", file: "dra_manager_state.k129", format: FormatFNV129},
		{reason: "same body, checksum made with the 1.30 type", file: "dra_manager_state.k130", format: FormatFNV130},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine(readFile(t, "cases", "B17-dra-api-field-added-checksum", tc.file))
			if r.Verdict != check.Valid || r.Format != tc.format {
				t.Fatalf("got %s %s (%v), want valid %s", r.Verdict, r.Format, r.Err, tc.format)
			}
			if !strings.Contains(r.Checksums[0].Note, tc.format) {
				t.Errorf("checksum note %q does not name the shape", r.Checksums[0].Note)
			}
			if !strings.Contains(strings.Join(r.Notes, "\n"), "kubelet 1.31 and later cannot read it") {
				t.Errorf("notes %q do not say kubelet >=1.31 cannot read it", r.Notes)
			}
		})
	}
}

func TestCaseB18BothFormats(t *testing.T) {
	dir := "B18-dra-1.30-to-1.31-upgrade"
	legacy := Examine(readFile(t, "cases", dir, FileName))
	if legacy.Verdict != check.Valid || legacy.Format != FormatFNV130 {
		t.Errorf("legacy file: %s %s (%v)", legacy.Verdict, legacy.Format, legacy.Err)
	}
	current := Examine(readFile(t, "cases", dir, FileName+".current-format"))
	if current.Verdict != check.Valid || current.Format != FormatCRC32 {
		t.Fatalf("current file: %s %s (%v)", current.Verdict, current.Format, current.Err)
	}
	lc, cc := legacy.Content.(*Content), current.Content.(*Content)
	if len(lc.Claims) != 1 || len(cc.Claims) != 1 || lc.Claims[0].UID != cc.Claims[0].UID {
		t.Fatalf("claims differ: %+v vs %+v", lc.Claims, cc.Claims)
	}
	if got := current.Tables[1].Rows; len(got) != 1 || got[0][2] != "node-a" || got[0][3] != "gpu-0" {
		t.Errorf("device table %v", got)
	}
}

func TestCaseB20CorruptNamesBothChecksums(t *testing.T) {
	r := Examine(readFile(t, "cases", "B20-dra-plugin-corrupt-crashloop", FileName))
	if r.Verdict != check.Corrupt || !errors.Is(r.Err, check.ErrCorrupt) {
		t.Fatalf("got %s %v", r.Verdict, r.Err)
	}
	cs := r.Checksums[0]
	if !strings.Contains(r.Err.Error(), "2075790231") || !strings.Contains(r.Err.Error(), "2075790230") || cs.OK {
		t.Errorf("error %q / checksum %+v should carry both values", r.Err, cs)
	}
	if r.Content == nil {
		t.Error("the readable claims of a corrupt file should still be shown")
	}
	if cs.HashedText == "" || uint64(crc32.ChecksumIEEE([]byte(cs.HashedText))) != cs.Computed {
		t.Errorf("the failed checksum should show the hashed bytes (the Data string), got %d bytes", len(cs.HashedText))
	}
}

func TestCaseB27Empty(t *testing.T) {
	r := Examine(readFile(t, "cases", "B27-empty-truncated-after-hard-reboot", "empty", FileName))
	var de *check.DecodeError
	if r.Verdict != check.Invalid || !errors.As(r.Err, &de) || de.Problem != check.ProblemEmpty {
		t.Fatalf("got %s %v, want invalid with problem empty", r.Verdict, r.Err)
	}
}

func TestExamineEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		data    string
		verdict check.Verdict
		format  string
		problem check.DecodeProblem
		note    string
	}{
		{reason: "empty current checkpoint", data: emptyCurrent(t), verdict: check.Valid, format: FormatCRC32},
		{reason: "empty Data string with crc 0 passes the crc but has no data (content, not a crash-emptied file)", data: `{"Data":"","Checksum":0}`,
			verdict: check.Invalid, format: FormatCRC32, problem: check.ProblemContent},
		{reason: "a document that is only null reads as no Data (content, not empty)", data: `null`,
			verdict: check.Invalid, format: FormatCRC32, problem: check.ProblemContent},
		{reason: "Data string that is not JSON", data: `{"Data":"x","Checksum":2363233923}`,
			verdict: check.Invalid, format: FormatCRC32, problem: check.ProblemSyntax},
		{reason: "checksum wider than uint32", data: `{"Data":"{}","Checksum":4294967296}`,
			verdict: check.Invalid, format: FormatCRC32, problem: check.ProblemType},
		{reason: "claims under an unknown key are ignored by kubelet", data: `{"Data":"{\"Entries\":[]}","Checksum":3524825195}`,
			verdict: check.Valid, format: FormatCRC32, note: `unknown key "Entries"`},
		{reason: "legacy file with a null entry list", data: `{"version":"v1","entries":null,"checksum":1}`,
			verdict: check.Corrupt, format: FormatFNV130},
		{reason: "legacy file with entries of the wrong type", data: `{"version":"v1","entries":{},"checksum":1}`,
			verdict: check.Invalid, format: FormatFNV130, problem: check.ProblemType},
		{reason: "trailing bytes", data: emptyCurrent(t) + "x", verdict: check.Invalid, problem: check.ProblemTrailing},
		{reason: "truncated", data: `{"Data":"{\"kind\":`, verdict: check.Invalid, problem: check.ProblemTruncated},
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
				if !errors.As(r.Err, &de) || de.Problem != tc.problem || !errors.Is(r.Err, check.ErrInvalid) {
					t.Errorf("err %v, want problem %s", r.Err, tc.problem)
				}
			}
			if tc.note != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tc.note) {
				t.Errorf("notes %q lack %q", r.Notes, tc.note)
			}
		})
	}
}

func emptyCurrent(t *testing.T) string {
	t.Helper()
	b, err := Encode(CheckpointData{})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEncodeEmptyAsKubelet(t *testing.T) {
	got := emptyCurrent(t)
	want := `{"Data":"{\"kind\":\"DRACheckpoint\",\"apiVersion\":\"checkpoint.dra.kubelet.k8s.io/v1\",\"ClaimInfoStateList\":null}","Checksum":`
	if !strings.HasPrefix(got, want) {
		t.Errorf("got %s", got)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   bool
	}{
		{reason: "current format", data: `{"Data":"{\"kind\":\"DRACheckpoint\"}","Checksum":1}`, want: true},
		{reason: "legacy format", data: `{"version":"v1","entries":[],"checksum":1}`, want: true},
		{reason: "legacy format without entries", data: `{"version":"v1","checksum":1}`, want: true},
		{reason: "allocation checkpoint (lower-case data with entries)", data: `{"data":"{\"entries\":{}}","checksum":1}`, want: false},
		{reason: "current format with the wrong case is not kubelet's DRA file", data: `{"data":"{\"kind\":\"DRACheckpoint\"}","checksum":1}`, want: false},
		{reason: "dockershim sandbox", data: `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":1}`, want: false},
		{reason: "device manager", data: `{"Data":{"PodDeviceEntries":[]},"Checksum":1}`, want: false},
		{reason: "example format", data: `{"Version":"v1","Name":"x","Data":{"port_mappings":[]},"Checksum":1}`, want: false},
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
	for _, pattern := range []string{"kubelet-vectors/dra/*", "cases/B1[78]*/dra_manager_state*", "cases/B2[02]*/dra_manager_state",
		"kubelet-generated/dra/small/*"} {
		files, _ := filepath.Glob(filepath.Join(testdata, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Examine(data)
		if (r.Err == nil) != (r.Verdict == check.Valid || r.Verdict == check.Unverified) {
			t.Fatalf("verdict %s with err %v", r.Verdict, r.Err)
		}
		_ = Sniff(data)
		if cd, err := Decode(data); err == nil {
			out, err := Encode(*cd)
			if err != nil {
				t.Fatal(err)
			}
			if r := Examine(out); r.Verdict != check.Valid {
				t.Fatalf("re-encoded checkpoint is %s: %v", r.Verdict, r.Err)
			}
		}
	})
}

func verdictIn(v check.Verdict, vs []check.Verdict) bool {
	for _, w := range vs {
		if v == w {
			return true
		}
	}
	return false
}
