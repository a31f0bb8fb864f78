package repair

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

const testdata = "../../testdata"

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil || len(m) != 1 {
		t.Fatalf("%v: %v %v", parts, m, err)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func replace(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !strings.Contains(string(b), old) {
		t.Fatalf("%q not in %s", old, b)
	}
	return []byte(strings.ReplaceAll(string(b), old, new))
}

func TestPrepare(t *testing.T) {
	v4 := func(t *testing.T) []byte { return read(t, "cases", "B04*", "cpu_manager_state.v4-k137") }
	tests := []struct {
		reason   string
		name     string
		data     func(t *testing.T) []byte
		format   string
		fixes    int
		baseline string // a prefix of Plan.Baseline ("" when none)
		diff     []Change
		contains string
	}{
		{reason: "cpu V4, data edited: the V2 block is the baseline and is rebuilt", name: "cpu_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, v4(t), `{\"app\":\"1-2\"}`, `{\"app\":\"1-3\"}`)
			},
			format: "v4", fixes: 2, baseline: "the embedded V2 block",
			diff:     []Change{{Path: "entries.aaaaaaaa-0000-4000-8000-00000000000a.app", Op: "changed", Old: "1-2", New: "1-3"}},
			contains: `"entries":{"aaaaaaaa-0000-4000-8000-00000000000a":{"app":"1-3"}},"checksum"`},
		{reason: "cpu V4, only the V2 block edited: data is the baseline and takes the edit", name: "cpu_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, v4(t), `"defaultCpuSet":"0,3-7","entries"`, `"defaultCpuSet":"0,3-6","entries"`)
			},
			format: "v4", fixes: 2, baseline: "the data string",
			diff:     []Change{{Path: "defaultCpuSet", Op: "changed", Old: "0,3-7", New: "0,3-6"}},
			contains: `\"defaultCpuSet\":\"0,3-6\"`},
		{reason: "cpu V4, both edited: data wins, no baseline", name: "cpu_manager_state",
			data:   func(t *testing.T) []byte { return replace(t, v4(t), "1-2", "1-4") },
			format: "v4", fixes: 2},
		{reason: "cpu V2 edited: one checksum, no backup", name: "cpu_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "cases", "B04*", "cpu_manager_state.v2-k118-k135"), `"app":"1-2"`, `"app":"1"`)
			},
			format: "v2", fixes: 1, contains: `"app":"1"`},
		{reason: "cpu V1 edited", name: "cpu_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "cases", "B02*", "cpu_manager_state"), `:"1-2"`, `:"1-3"`)
			},
			format: "v1", fixes: 1},
		{reason: "memory V3 data edited: the V1 block is the baseline", name: "memory_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "kubelet-generated", "memorymanager", "small", "memory_manager_state"),
					`\"numberOfAssignments\":6`, `\"numberOfAssignments\":7`)
			},
			format: "v3", fixes: 2, baseline: "the embedded V1 block",
			diff: []Change{{Path: "machineState.0.numberOfAssignments", Op: "changed", Old: "6", New: "7"}}},
		{reason: "DRA crc32: the Data string is kept, only the crc changes", name: "dra_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "cases", "B18*", "dra_manager_state.current-format"), "gpu-claim", "gpu-claim-2")
			},
			format: "crc32", fixes: 1, contains: `gpu-claim-2`},
		{reason: "DRA legacy 1.30 shape", name: "dra_manager_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "cases", "B18*", "dra_manager_state"), "team-a", "team-b")
			},
			format: "fnv-1.30", fixes: 1},
		{reason: "device v2", name: "kubelet_internal_checkpoint",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "kubelet-generated", "devicemanager", "small", "kubelet_internal_checkpoint"), `"ContainerName":"`, `"ContainerName":"x`)
			},
			format: "v2", fixes: 1},
		{reason: "device pre-1.20", name: "kubelet_internal_checkpoint",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "cases", "B12*", "kubelet_internal_checkpoint"), `"app"`, `"main"`)
			},
			format: "pre-1.20", fixes: 1},
		{reason: "allocation data string", name: "allocated_pods_state",
			data: func(t *testing.T) []byte {
				return replace(t, read(t, "kubelet-generated", "allocation", "small", "allocated_pods_state"), `\"cpu\":\"`, `\"cpu\":\"1`)
			},
			format: "v1.33", fixes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			data := tt.data(t)
			if r := kubelet.Examine(tt.name, data); r.Verdict != check.Corrupt {
				t.Fatalf("the edited file is %s, want corrupt", r.Verdict)
			}
			p, err := Prepare(tt.name, data, Options{BackupDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if p.Unchanged || p.Format != tt.format || len(p.Fixes) != tt.fixes {
				t.Errorf("plan %+v", p)
			}
			if err := p.Verify(p.Data); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !strings.HasPrefix(p.Baseline, tt.baseline) || (tt.baseline == "") != (p.Baseline == "") {
				t.Errorf("baseline %q, want %q", p.Baseline, tt.baseline)
			}
			if tt.diff != nil && !equalChanges(p.Diff, tt.diff) {
				t.Errorf("diff %+v, want %+v", p.Diff, tt.diff)
			}
			if tt.contains != "" && !strings.Contains(string(p.Data), tt.contains) {
				t.Errorf("repaired file lacks %s:\n%s", tt.contains, p.Data)
			}
		})
	}
}

func equalChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBackupBaseline: for a one-checksum format, the newest backup that
// verifies is the baseline.
func TestBackupBaseline(t *testing.T) {
	orig := read(t, "cases", "B04*", "cpu_manager_state.v2-k118-k135")
	bdir := t.TempDir()
	for name, b := range map[string][]byte{
		"cpu_manager_state.20260101T000000Z": orig,
		"cpu_manager_state.20260102T000000Z": []byte("garbage: not the newest verifiable backup"),
		"other_file.20260103T000000Z":        orig,
	} {
		if err := os.WriteFile(filepath.Join(bdir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	edited := replace(t, orig, `"defaultCpuSet":"0,3-7"`, `"defaultCpuSet":"0,3-6,7"`)
	p, err := Prepare("cpu_manager_state", edited, Options{BackupDir: bdir})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Baseline, "cpu_manager_state.20260101T000000Z") {
		t.Errorf("baseline %q", p.Baseline)
	}
	// "0,3-6,7" is normalised to kubelet's "0,3-7": no difference in content.
	if len(p.Diff) != 0 {
		t.Errorf("diff %+v, want none", p.Diff)
	}
}

func TestPrepareRefusals(t *testing.T) {
	tests := []struct {
		reason string
		name   string
		data   string
		want   error
	}{
		{"truncated", "cpu_manager_state", `{"policyName":"none","defaultCpuSet":"4-6","che`, ErrUndecodable},
		{"unparsable cpuset", "cpu_manager_state", `{"policyName":"none","defaultCpuSet":"x-y","checksum":1}`, ErrUndecodable},
		{"not a checkpoint", "notes", `hello`, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			if _, err := Prepare(tt.name, []byte(tt.data), Options{BackupDir: t.TempDir()}); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Nothing to repair.
	orig := read(t, "cases", "B04*", "cpu_manager_state.v4-k137")
	p, err := Prepare("cpu_manager_state", orig, Options{})
	if err != nil || !p.Unchanged || string(p.Data) != string(orig) {
		t.Errorf("valid file: %+v, %v", p, err)
	}
}
