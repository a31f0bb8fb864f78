package kubelet_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

const vectors = "../testdata/kubelet-vectors"

type manifestEntry struct {
	File        string `json:"file"`
	Consumer    string `json:"consumer"`
	Expect      string `json:"expect"`
	KindVersion string `json:"kind_version"`
	HashInput   string `json:"hash_input"`
	HashRule    string `json:"hash_rule"`
	Stored      *struct {
		Stored   uint64 `json:"stored"`
		Computed uint64 `json:"computed"`
	} `json:"stored_vs_computed"`
	Summary string `json:"summary"`
}

func loadManifest(t *testing.T) []manifestEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectors, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) < 60 {
		t.Fatalf("manifest has %d entries, want the full set", len(m))
	}
	return m
}

// consumerKind maps the manifest's consumer names to ckpt's kinds.
var consumerKind = map[string]check.Kind{
	"cpumanager":        check.KindCPU,
	"memorymanager":     check.KindMemory,
	"devicemanager":     check.KindDevice,
	"dra":               check.KindDRA,
	"allocation":        check.KindAllocation,
	"dockershim":        check.KindDockershim,
	"checkpointmanager": check.KindExample,
}

// kindVersionFormat maps the manifest's kind_version to the Format ckpt
// reports. "any" (files that are not JSON) has no format to match.
var kindVersionFormat = map[string]string{
	"cpumanager/v1":                          "v1",
	"cpumanager/v2":                          "v2",
	"cpumanager/v3":                          "v3",
	"cpumanager/v4":                          "v4",
	"cpumanager/file-backend(no checksum)":   "file-backend",
	"memorymanager/v1":                       "v1",
	"memorymanager/v2":                       "v2",
	"memorymanager/v3":                       "v3",
	"devicemanager/v1(k8s<=1.19)":            "pre-1.20",
	"devicemanager/v2(k8s>=1.20)":            "v2",
	"dra/v1-fnv(1.30 layout)":                "fnv-1.30",
	"dra/v1-fnv(pre-ResourceHandles layout)": "fnv-pre-resourcehandles",
	"dra/v1-fnv(master-only July 2024 DriverState layout)":     "fnv-driverstate",
	"dra/checkpoint.dra.kubelet.k8s.io/v1(crc32)":              "crc32",
	"dra/checkpoint.dra.kubelet.k8s.io/v0(crc32)":              "crc32",
	"statusmanager/pod_status_manager_state(1.32 data-string)": "status-1.32",
	"allocation/allocated_pods_state(1.33+)":                   "v1.33",
	"dockershim/sandbox-v1(pre-1.10 whole-struct hash)":        "pre-1.10",
	"dockershim/sandbox-v1(1.10-1.23: hash over *Data)":        "v1",
	"checkpointmanager/testing example_checkpoint_formats/v1":  "v1",
}

// stricterThanManifest lists the vectors where ckpt's verdict is stricter
// than the manifest's "valid", which records only that kubelet 1.37's
// checkpoint layer accepts the file. ckpt judges the file as a whole:
//   - a V4/V3 file whose legacy block's checksum fails is corrupt, because
//     kubelet 1.35 and 1.36 read that block and would refuse the file (these
//     test literals carry a deliberately bogus legacy block, checksum 1234);
//   - a file whose checksums hold but whose cpuset kubelet cannot parse is
//     invalid, because kubelet's restore then fails and kubelet exits.
var stricterThanManifest = map[string]check.Verdict{
	"cpumanager/v4-default-cpuset.json":            check.Corrupt,
	"cpumanager/v4-valid-entries.json":             check.Corrupt,
	"cpumanager/v4-data-unknown-field.json":        check.Corrupt,
	"cpumanager/v4-podentries-baselines.json":      check.Corrupt,
	"memorymanager/v3-valid.json":                  check.Corrupt,
	"memorymanager/v3-valid-podentries.json":       check.Corrupt,
	"cpumanager/v2-unparsable-default-cpuset.json": check.Invalid,
	"cpumanager/v2-unparsable-entry.json":          check.Invalid,
	"cpumanager/v4-data-unparsable-default.json":   check.Invalid,
	"cpumanager/v4-data-unparsable-entry.json":     check.Invalid,
}

// TestManifestVectors examines every file of kubelet's own test vectors and
// checks kind, format and verdict against the manifest.
func TestManifestVectors(t *testing.T) {
	for _, e := range loadManifest(t) {
		t.Run(e.File, func(t *testing.T) {
			path := filepath.Join(vectors, e.File)
			f, err := kubelet.ExamineFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := f.Result
			if want := consumerKind[e.Consumer]; r.Kind != want {
				t.Errorf("kind = %s, want %s (%s)", r.Kind, want, e.Summary)
			}
			if e.KindVersion != "any" {
				want, ok := kindVersionFormat[e.KindVersion]
				if !ok {
					t.Fatalf("no format mapping for kind_version %q", e.KindVersion)
				}
				if r.Format != want {
					t.Errorf("format = %q, want %q (kind_version %s)", r.Format, want, e.KindVersion)
				}
			}
			expect := e.Expect
			if v, ok := stricterThanManifest[e.File]; ok {
				if e.Expect != "valid" {
					t.Fatalf("exception listed for a %s vector", e.Expect)
				}
				expect = map[check.Verdict]string{check.Corrupt: "corrupt", check.Invalid: "error"}[v]
			}
			switch expect {
			case "valid":
				if r.Verdict != check.Valid && r.Verdict != check.Unverified {
					t.Errorf("verdict = %s (%v), want valid or unverified (%s)", r.Verdict, r.Err, e.Summary)
				}
				if r.Err != nil {
					t.Errorf("a %s result carries an error: %v", r.Verdict, r.Err)
				}
			case "corrupt":
				if r.Verdict != check.Corrupt || !errors.Is(r.Err, check.ErrCorrupt) {
					t.Errorf("verdict = %s (%v), want corrupt wrapping ErrCorrupt (%s)", r.Verdict, r.Err, e.Summary)
				}
			case "error":
				if r.Verdict != check.Invalid || !errors.Is(r.Err, check.ErrInvalid) {
					t.Errorf("verdict = %s (%v), want invalid wrapping ErrInvalid (%s)", r.Verdict, r.Err, e.Summary)
				}
			default:
				t.Fatalf("unknown expectation %q", e.Expect)
			}
		})
	}
}

// TestManifestHashInputs proves the checksum rule bit-identical: for every
// vector with the exact text kubelet hashes, our text for the file is that
// text, and its hash is a checksum the file stores.
func TestManifestHashInputs(t *testing.T) {
	n := 0
	for _, e := range loadManifest(t) {
		if e.HashInput == "" {
			continue
		}
		n++
		t.Run(e.File, func(t *testing.T) {
			f, err := kubelet.ExamineFile(filepath.Join(vectors, e.File))
			if err != nil {
				t.Fatal(err)
			}
			want := checksum.Sum([]byte(e.HashInput))
			found := false
			for _, c := range f.Result.Checksums {
				// Data-string rules may leave the (large) text out; their
				// computed value must still be the hash of kubelet's text.
				if c.HashedText == e.HashInput || c.HashedText == "" && c.Computed == uint64(want) {
					found = true
					if c.Computed != uint64(want) {
						t.Errorf("%s: computed %d, but the hash of kubelet's text is %d", c.Field, c.Computed, want)
					}
				}
			}
			if !found {
				t.Errorf("no checksum of the result hashed kubelet's text %q; got %+v", e.HashInput, f.Result.Checksums)
			}
		})
	}
	if n < 30 {
		t.Fatalf("only %d vectors carry hash_input", n)
	}
}

// TestKubeletGeneratedAllValid: every file written by kubelet v1.37.2's own
// write paths verifies as valid (not merely unverified).
func TestKubeletGeneratedAllValid(t *testing.T) {
	s, err := kubelet.ScanDir("../testdata/kubelet-generated")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 10 {
		t.Fatalf("found %d files, want 10", len(s.Files))
	}
	for _, f := range s.Files {
		if f.ReadErr != nil || f.Result.Verdict != check.Valid {
			t.Errorf("%s: verdict %s, err %v %v", f.Path, f.Result.Verdict, f.ReadErr, f.Result.Err)
		}
		if f.Result.Kind != kubelet.KindFromPath(f.Path) {
			t.Errorf("%s: kind %s, want %s", f.Path, f.Result.Kind, kubelet.KindFromPath(f.Path))
		}
	}
}

// TestManifestStoredVsComputed: where the manifest records the stored and
// the computed checksum (kubelet's own computation), ours agree.
func TestManifestStoredVsComputed(t *testing.T) {
	for _, e := range loadManifest(t) {
		if e.Stored == nil {
			continue
		}
		f, err := kubelet.ExamineFile(filepath.Join(vectors, e.File))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range f.Result.Checksums {
			if c.Stored == e.Stored.Stored && c.Computed == e.Stored.Computed {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no checksum with stored %d computed %d; got %+v", e.File, e.Stored.Stored, e.Stored.Computed, f.Result.Checksums)
		}
	}
}
