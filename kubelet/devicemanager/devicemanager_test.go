package devicemanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// testdata is the project's shared test data directory.
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
	b, err := os.ReadFile(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func manifest(t *testing.T, consumer string) []manifestEntry {
	t.Helper()
	var all []manifestEntry
	if err := json.Unmarshal(readFile(t, "kubelet-vectors", "manifest.json"), &all); err != nil {
		t.Fatal(err)
	}
	var out []manifestEntry
	for _, e := range all {
		if e.Consumer == consumer {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no manifest entries for %s", consumer)
	}
	return out
}

// formatOfKindVersion maps the manifest's kind_version to the Format that
// Examine reports.
var formatOfKindVersion = map[string]string{
	"devicemanager/v2(k8s>=1.20)": FormatV2,
	"devicemanager/v1(k8s<=1.19)": FormatPre120,
}

// verdictOfExpect maps the manifest's expectation to the verdicts that
// satisfy it.
var verdictOfExpect = map[string][]check.Verdict{
	"valid":   {check.Valid, check.Unverified},
	"corrupt": {check.Corrupt},
	"error":   {check.Invalid},
}

func TestManifestVectors(t *testing.T) {
	for _, e := range manifest(t, "devicemanager") {
		t.Run(e.File, func(t *testing.T) {
			data := readFile(t, "kubelet-vectors", e.File)
			if !Sniff(data) {
				t.Errorf("Sniff = false")
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
			if e.HashInput != "" {
				if len(r.Checksums) != 1 || r.Checksums[0].HashedText != e.HashInput {
					t.Errorf("hashed text differs from the manifest's hash_input\n got: %q\nwant: %q", hashed(r), e.HashInput)
				}
			}
		})
	}
}

func TestKubeletGeneratedRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "kubelet-generated", "devicemanager", "*", FileName))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if r := Examine(data); r.Verdict != check.Valid || r.Format != FormatV2 {
				t.Fatalf("Examine: %s %s (%v)", r.Verdict, r.Format, r.Err)
			}
			cp, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(*cp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("Encode(Decode(file)) differs from the file (%d vs %d bytes)", len(out), len(data))
			}
		})
	}
}

func TestCaseB12PreNUMAFile(t *testing.T) {
	data := readFile(t, "cases", "B12-device-pre-1.20-format-silent-loss", FileName)
	r := Examine(data)
	if r.Verdict != check.Valid || r.Format != FormatPre120 {
		t.Fatalf("got %s %s (%v), want valid %s", r.Verdict, r.Format, r.Err, FormatPre120)
	}
	c := r.Content.(*Content)
	if len(c.Allocations) != 1 {
		t.Fatalf("%d allocations, want 1", len(c.Allocations))
	}
	if got := r.Tables[1].Rows; len(got) != 1 || got[0][3] != "unknown" {
		t.Errorf("allocation table rows %v, want one row with NUMA node unknown", got)
	}
	var noted bool
	for _, n := range r.Notes {
		if strings.Contains(n, "1 allocation,") {
			noted = true
		}
	}
	if !noted || !strings.Contains(strings.Join(r.Notes, "\n"), "silently start with EMPTY device state") {
		t.Errorf("notes %q lack the allocation count or the kubelet >=1.20 warning", r.Notes)
	}
	// Decode reads only the current layout, as kubelet 1.31+ does, but says
	// so with an error instead of returning an empty state.
	if _, err := Decode(data); !errors.Is(err, check.ErrInvalid) {
		t.Errorf("Decode(pre-1.20) error %v, want ErrInvalid", err)
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
		err     error
	}{
		{reason: "empty checkpoint as kubelet writes it", data: `{"Data":{"PodDeviceEntries":[],"RegisteredDevices":{}},"Checksum":2932075448}`,
			verdict: check.Valid, format: FormatV2},
		{reason: "keys match case-insensitively, as in kubelet", data: `{"data":{"poddeviceentries":[],"registereddevices":{}},"checksum":2932075448}`,
			verdict: check.Valid, format: FormatV2},
		{reason: "a zero checksum has no bypass in the device manager", data: `{"Data":{"PodDeviceEntries":[],"RegisteredDevices":{}},"Checksum":0}`,
			verdict: check.Corrupt, format: FormatV2, err: check.ErrCorrupt},
		{reason: "null entries hash differently from an empty list", data: `{"Data":{"PodDeviceEntries":null,"RegisteredDevices":{}},"Checksum":2932075448}`,
			verdict: check.Corrupt, format: FormatV2, err: check.ErrCorrupt},
		{reason: "missing Data section", data: `{"Checksum":2932075448}`,
			verdict: check.Invalid, problem: check.ProblemContent, err: check.ErrInvalid},
		{reason: "JSON null document", data: `null`, verdict: check.Invalid, problem: check.ProblemContent, err: check.ErrInvalid},
		{reason: "wrong type for the checksum", data: `{"Data":{"PodDeviceEntries":[]},"Checksum":"x"}`,
			verdict: check.Invalid, problem: check.ProblemType, err: check.ErrInvalid},
		{reason: "DeviceIDs neither a map nor a list", data: `{"Data":{"PodDeviceEntries":[{"DeviceIDs":7}]},"Checksum":1}`,
			verdict: check.Invalid, problem: check.ProblemType, err: check.ErrInvalid},
		{reason: "trailing bytes after a valid document", data: `{"Data":{"PodDeviceEntries":[],"RegisteredDevices":{}},"Checksum":2932075448}}`,
			verdict: check.Invalid, problem: check.ProblemTrailing, err: check.ErrInvalid},
		{reason: "truncated document", data: `{"Data":{"PodDeviceEntries":[`,
			verdict: check.Invalid, problem: check.ProblemTruncated, err: check.ErrInvalid},
		{reason: "zero-filled file", data: "\x00\x00\x00\x00", verdict: check.Invalid, problem: check.ProblemZeroFilled, err: check.ErrInvalid},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine([]byte(tc.data))
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (err %v)", r.Verdict, tc.verdict, r.Err)
			}
			if tc.format != "" && r.Format != tc.format {
				t.Errorf("format %q, want %q", r.Format, tc.format)
			}
			if tc.err == nil && r.Err != nil || tc.err != nil && !errors.Is(r.Err, tc.err) {
				t.Errorf("err %v, want %v", r.Err, tc.err)
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
	data := readFile(t, "kubelet-vectors", "devicemanager", "derived-v2-writer.json")
	bad := bytes.Replace(data, []byte(`"Checksum":28559322`), []byte(`"Checksum":28559323`), 1)
	cp, err := Decode(bad)
	if !errors.Is(err, check.ErrCorrupt) || cp == nil || len(cp.PodDeviceEntries) != 1 {
		t.Fatalf("Decode = %v, %v; want the content and ErrCorrupt", cp, err)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   bool
	}{
		{reason: "v2 file", data: `{"Data":{"PodDeviceEntries":[],"RegisteredDevices":{}},"Checksum":1}`, want: true},
		{reason: "registered devices only", data: `{"Data":{"RegisteredDevices":{}},"Checksum":1}`, want: true},
		{reason: "cut short inside the entries", data: `{"Data":{"PodDeviceEntries":[{"PodUID":"a`, want: true},
		{reason: "DRA 1.31+ has a string Data", data: `{"Data":"{\"kind\":\"DRACheckpoint\"}","Checksum":1}`, want: false},
		{reason: "example format holds port mappings", data: `{"Version":"v1","Name":"x","Data":{"port_mappings":[]},"Checksum":1}`, want: false},
		{reason: "cpu manager", data: `{"policyName":"none","defaultCpuSet":"","checksum":1}`, want: false},
		{reason: "not JSON", data: `hello`, want: false},
		{reason: "empty", data: ``, want: false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if got := Sniff([]byte(tc.data)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEncodeKeepsNilVersusEmpty(t *testing.T) {
	out, err := Encode(Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	r := Examine(out)
	if r.Verdict != check.Valid || !bytes.Contains(out, []byte(`"PodDeviceEntries":null`)) {
		t.Errorf("Encode(zero) = %s: %s", out, r.Verdict)
	}
}

func FuzzExamine(f *testing.F) {
	for _, dir := range []string{"kubelet-vectors/devicemanager", "cases/B12-device-pre-1.20-format-silent-loss",
		"cases/B15-device-stale-entries", "cases/B16-device-disk-full-temp-file"} {
		files, _ := filepath.Glob(filepath.Join(testdata, dir, "*"))
		for _, file := range files {
			if strings.HasSuffix(file, ".md") {
				continue
			}
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"Data":{"PodDeviceEntries":[{"DeviceIDs":{"-1":null}}]},"Checksum":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Examine(data)
		if (r.Err == nil) != (r.Verdict == check.Valid || r.Verdict == check.Unverified) {
			t.Fatalf("verdict %s with err %v", r.Verdict, r.Err)
		}
		_ = Sniff(data)
		if cp, err := Decode(data); err == nil {
			out, err := Encode(*cp)
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

func hashed(r check.Result) string {
	if len(r.Checksums) == 0 {
		return ""
	}
	return r.Checksums[0].HashedText
}
