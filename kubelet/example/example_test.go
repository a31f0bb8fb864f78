package example

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
}

// The manifest's consumer "checkpointmanager" with kind_version
// "checkpointmanager/testing example_checkpoint_formats/v1" is this format,
// reported as FormatV1.
func TestManifestVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdata, "kubelet-vectors", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []manifestEntry
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if e.Consumer != "checkpointmanager" {
			continue
		}
		n++
		t.Run(e.File, func(t *testing.T) {
			if e.KindVersion != "checkpointmanager/testing example_checkpoint_formats/v1" {
				t.Fatalf("unmapped kind_version %q", e.KindVersion)
			}
			data, err := os.ReadFile(filepath.Join(testdata, "kubelet-vectors", e.File))
			if err != nil {
				t.Fatal(err)
			}
			if !Sniff(data) {
				t.Error("Sniff = false")
			}
			r := Examine(data)
			if e.Expect != "valid" || r.Verdict != check.Valid || r.Format != FormatV1 {
				t.Fatalf("got %s %s (expect %s): %v", r.Verdict, r.Format, e.Expect, r.Err)
			}
			if r.Checksums[0].HashedText != e.HashInput {
				t.Errorf("hashed text\n got %q\nwant %q", r.Checksums[0].HashedText, e.HashInput)
			}
			cp, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := Encode(*cp); err != nil || !bytes.Equal(out, data) {
				t.Errorf("round trip: %s, %v", out, err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no manifest entries for checkpointmanager")
	}
}

func TestExamineCases(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		data    string
		verdict check.Verdict
		problem check.DecodeProblem
	}{
		{reason: "wrong checksum", data: `{"Version":"v1","Name":"x","Data":{},"Checksum":1}`, verdict: check.Corrupt},
		{reason: "no Data member", data: `{"Version":"v1","Name":"x","Checksum":1}`, verdict: check.Invalid, problem: check.ProblemContent},
		{reason: "null Data", data: `{"Version":"v1","Name":"x","Data":null,"Checksum":1}`, verdict: check.Invalid, problem: check.ProblemContent},
		{reason: "port of the wrong type", data: `{"Data":{"port_mappings":[{"HostPort":true}]}}`, verdict: check.Invalid, problem: check.ProblemType},
		{reason: "trailing bytes", data: `{"Data":{}}}`, verdict: check.Invalid, problem: check.ProblemTrailing},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine([]byte(tc.data))
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (%v)", r.Verdict, tc.verdict, r.Err)
			}
			if tc.verdict == check.Corrupt && !errors.Is(r.Err, check.ErrCorrupt) {
				t.Errorf("err %v", r.Err)
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

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   bool
	}{
		{reason: "example format", data: `{"Version":"v1","Name":"x","Data":{"port_mappings":[],"host_network":true},"Checksum":1}`, want: true},
		{reason: "dockershim", data: `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":1}`, want: false},
		{reason: "device manager", data: `{"Data":{"PodDeviceEntries":[]},"Checksum":1}`, want: false},
		{reason: "upper-case names but a namespace", data: `{"Version":"v1","Name":"x","Namespace":"n","Data":{}}`, want: false},
		{reason: "Data holding something else", data: `{"Version":"v1","Name":"x","Data":{"PodDeviceEntries":[]}}`, want: false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if got := Sniff([]byte(tc.data)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzExamine(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(testdata, "kubelet-vectors", "checkpointmanager", "derived-example-v1.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"Version":"v1","Name":"x","Data":{"port_mappings":[null]},"Checksum":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Examine(data)
		if (r.Err == nil) != (r.Verdict == check.Valid) {
			t.Fatalf("verdict %s with err %v", r.Verdict, r.Err)
		}
		_ = Sniff(data)
		if cp, err := Decode(data); err == nil {
			out, err := Encode(*cp)
			if err != nil {
				t.Fatal(err)
			}
			if r := Examine(out); r.Verdict != check.Valid {
				t.Fatalf("re-encoded: %s %v", r.Verdict, r.Err)
			}
		}
	})
}
