package diff

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

const cases = "../../testdata/cases"

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompare(t *testing.T) {
	b07 := filepath.Join(cases, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	b28 := filepath.Join(cases, "B28-permission-readonly-misleading-advice", "cpu_manager_state")
	// The B28 state written in kubelet 1.37's V4 format.
	s, err := cpumanager.Decode(read(t, b28))
	if err != nil {
		t.Fatal(err)
	}
	v4, err := cpumanager.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason string
		a, b   []byte
		want   []Change
	}{
		{"a file equals itself", read(t, b07), read(t, b07), []Change{}},
		{"the same state in V2 and V4 is equal: formats and checksums do not count", read(t, b28), v4, []Change{}},
		{"B07 before and after pruning pod B: one entry removed, CPUs back in the default set", read(t, b07), read(t, b28), []Change{
			{Section: "default set", Key: "default CPU set", Op: Changed, From: "0,5-7", To: "0,3-7", Detail: "+CPUs 3-4"},
			{Section: "entries", Key: "bbbbbbbb-0000-4000-8000-00000000000b/db", Op: Removed, From: "3-4"},
		}},
		{"and the other way round", read(t, b28), read(t, b07), []Change{
			{Section: "default set", Key: "default CPU set", Op: Changed, From: "0,3-7", To: "0,5-7", Detail: "-CPUs 3-4"},
			{Section: "entries", Key: "bbbbbbbb-0000-4000-8000-00000000000b/db", Op: Added, To: "3-4"},
		}},
	} {
		d, err := Compare("cpu_manager_state", tc.a, "cpu_manager_state", tc.b)
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if len(d.Changes) != len(tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.reason, d.Changes, tc.want)
			continue
		}
		for i := range tc.want {
			if d.Changes[i] != tc.want[i] {
				t.Errorf("%s: change %d = %+v, want %+v", tc.reason, i, d.Changes[i], tc.want[i])
			}
		}
		if d.Equal() != (len(tc.want) == 0) {
			t.Errorf("%s: Equal() = %v", tc.reason, d.Equal())
		}
	}
}

// Per-NUMA memory: each figure is its own item, with its delta.
func TestCompareMemory(t *testing.T) {
	path := filepath.Join(cases, "B08-memory-numa-total-drift-after-reboot", "memory_manager_state")
	a := read(t, path)
	s, err := memorymanager.Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	s.MachineState[0].MemoryMap["memory"].TotalMemSize -= 40 << 20
	b, err := memorymanager.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(path, a, path, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 1 || d.Changes[0].Section != "NUMA memory" || d.Changes[0].Key != "0 memory total" ||
		d.Changes[0].Detail != "-40 MiB" || d.A.Format != "v1" || d.B.Format != "v3" {
		t.Errorf("%+v", d)
	}
}

func TestCompareErrors(t *testing.T) {
	cpu := read(t, cases, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	dev := read(t, cases, "B15-device-stale-entries", "kubelet_internal_checkpoint")
	for _, tc := range []struct {
		reason string
		a, b   []byte
		want   error
	}{
		{"different kinds", cpu, dev, ErrKindMismatch},
		{"a file that does not decode", cpu, []byte(`{"policyName":"static","defaultCpuSet":`), ErrNoContent},
		{"unknown bytes that are not JSON either", []byte("hello"), []byte("world"), ErrNoContent},
	} {
		if _, err := Compare("a", tc.a, "b", tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.reason, err, tc.want)
		}
	}
}

// B19: a driver's payload before and after a re-marshal with another
// omitempty differs only in empty values.
func TestCompareJSONB19(t *testing.T) {
	dir := filepath.Join(cases, "B19-driver-remarshal-checksum")
	d, err := Compare("a", read(t, dir, "payload.on-disk.json"), "b", read(t, dir, "payload.re-marshaled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindJSON || d.Equal() || !d.OnlyEmpty() || len(d.Changes) != 2 {
		t.Errorf("%+v", d)
	}
	// The data-string checkpoint holds the on-disk payload: inside its
	// data string, the payload is the same document.
	d, err = Compare("a", read(t, dir, "checkpoint.data-string.json"), "b", read(t, dir, "checkpoint.data-string.json"))
	if err != nil || !d.Equal() {
		t.Errorf("%+v %v", d, err)
	}
	d, err = Compare("a", []byte(`{"x":1,"y":[1,2]}`), "b", []byte(`{"y":[1,3],"x":1}`))
	if err != nil || len(d.Changes) != 1 || d.Changes[0].Key != "y[1]" || d.OnlyEmpty() {
		t.Errorf("%+v %v", d, err)
	}
}
