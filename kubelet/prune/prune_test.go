package prune

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

const (
	cases = "../../testdata/cases"
	podA  = "aaaaaaaa-0000-4000-8000-00000000000a"
	podB  = "bbbbbbbb-0000-4000-8000-00000000000b"
)

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func plan(t *testing.T, path string, data []byte, opts Options) *Result {
	t.Helper()
	r, err := Plan(path, data, opts)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

func mach(t *testing.T, path string) *machine.Machine {
	t.Helper()
	m, err := machine.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// B07: one stale container, CPUs 3-4; afterwards the default set is 0,3-7
// and only pod A's assignment is left.
func TestCaseB07(t *testing.T) {
	path := filepath.Join(cases, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	pods, err := ParsePods(read(t, cases, "B07-cpu-stale-entries-deleted-pods", "active-pods.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := plan(t, path, read(t, path), Options{Keep: pods})
	want := []Removal{{Pod: podB, Name: "db", Holds: "CPUs 3-4"}}
	if !reflect.DeepEqual(r.Removed, want) || r.Kept != 1 {
		t.Errorf("removed %+v kept %d, want %+v and 1 kept", r.Removed, r.Kept, want)
	}
	s, err := cpumanager.Decode(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if s.DefaultCPUSet != "0,3-7" || !reflect.DeepEqual(s.Entries, map[string]map[string]string{podA: {"app": "1-2"}}) {
		t.Errorf("after prune: %+v", s)
	}
	// Pruning the result again changes nothing.
	if again := plan(t, path, r.Data, Options{Keep: pods}); again.Changed() || len(again.Removed) != 0 {
		t.Errorf("second prune: %+v", again)
	}
}

// B15: one stale device entry; the result holds one entry.
func TestCaseB15(t *testing.T) {
	path := filepath.Join(cases, "B15-device-stale-entries", "kubelet_internal_checkpoint")
	pods, err := ParsePods(read(t, cases, "B15-device-stale-entries", "active-pods.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := plan(t, path, read(t, path), Options{Keep: pods})
	if len(r.Removed) != 1 || r.Removed[0].Pod != podB || r.Removed[0].Name != "trainer" ||
		r.Removed[0].Holds != "nvidia.com/gpu GPU-00000000-0000-4000-8000-000000000002" {
		t.Errorf("removed %+v", r.Removed)
	}
	cp, err := devicemanager.Decode(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.PodDeviceEntries) != 1 || cp.PodDeviceEntries[0].PodUID != podA || len(cp.RegisteredDevices["nvidia.com/gpu"]) != 2 {
		t.Errorf("after prune: %+v", cp)
	}
}

// B08: nothing is assigned, so the machine's totals replace the file's;
// the rebased file verifies and a second rebase changes nothing.
func TestCaseB08Rebase(t *testing.T) {
	dir := filepath.Join(cases, "B08-memory-numa-total-drift-after-reboot")
	path := filepath.Join(dir, "memory_manager_state")
	m := mach(t, filepath.Join(dir, "machine.json"))
	r := plan(t, path, read(t, path), Options{Machine: m})
	if !r.Changed() || len(r.Removed) != 0 {
		t.Fatalf("%+v", r)
	}
	s, err := memorymanager.Decode(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	for n, total := range map[int]uint64{0: 68677533696, 1: 68761419776} {
		mem := s.MachineState[n].MemoryMap["memory"]
		if mem.TotalMemSize != total || mem.Allocatable != total-1<<30 || mem.Free != mem.Allocatable || mem.Reserved != 0 {
			t.Errorf("node %d: %+v", n, mem)
		}
	}
	if again := plan(t, path, r.Data, Options{Machine: m}); again.Changed() {
		t.Errorf("second rebase: %+v", again.Changes)
	}
	drifts, err := Rebase(s, m)
	if err != nil || len(drifts) != 0 {
		t.Errorf("rebased state still drifts: %v %v", drifts, err)
	}
}

// B05: with the machine, leaked CPUs return to the default set; an overlap
// is resolved in favour of a container that runs, and only reported when
// the pods are unknown.
func TestCaseB05(t *testing.T) {
	dir := filepath.Join(cases, "B05-cpu-torn-multiwrite-leak-overlap")
	m := mach(t, filepath.Join(dir, "machine.json"))
	for _, tc := range []struct {
		reason         string
		file           string
		keep           Pods
		wantDefault    string // "" when nothing may change
		wantNoMatch    bool
		wantUnresolved bool
	}{
		{"leak: 1-2 return to the default set", "leak", nil, "0-7", false, false},
		{"overlap with the holder running: 1-2 leave the default set", "overlap", NewPods(podA), "0,3-7", false, false},
		{"overlap with the pods unknown: nothing changes, and the file still blocks kubelet (review item 10)", "overlap", nil, "", false, true},
		{"overlap with the holder gone: the assignment goes, the CPUs stay shared (and a list naming no pod of the file is suspicious)", "overlap", NewPods(podB), "0-7", true, false},
	} {
		path := filepath.Join(dir, tc.file, "cpu_manager_state")
		r := plan(t, path, read(t, path), Options{Keep: tc.keep, Machine: m})
		if tc.wantDefault == "" {
			if r.Changed() {
				t.Errorf("%s: changed: %+v", tc.reason, r)
			}
		} else {
			s, err := cpumanager.Decode(r.Data)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if s.DefaultCPUSet != tc.wantDefault {
				t.Errorf("%s: default set %q, want %q (changes %v)", tc.reason, s.DefaultCPUSet, tc.wantDefault, r.Changes)
			}
		}
		if r.NoMatch != tc.wantNoMatch || (len(r.Warnings) > 0) != tc.wantNoMatch {
			t.Errorf("%s: no match %v, warnings %v", tc.reason, r.NoMatch, r.Warnings)
		}
		if (len(r.Unresolved) > 0) != tc.wantUnresolved {
			t.Errorf("%s: unresolved %v", tc.reason, r.Unresolved)
		}
	}
}

// Kubelet's own files with every pod kept: nothing changes.
func TestKeepEverything(t *testing.T) {
	gen := "../../testdata/kubelet-generated"
	for _, kind := range []string{"cpumanager", "memorymanager", "devicemanager", "dra", "allocation"} {
		for _, size := range []string{"small", "realistic"} {
			dir := filepath.Join(gen, kind, size)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				path := filepath.Join(dir, e.Name())
				data := read(t, path)
				all := podsOf(t, path, data)
				r := plan(t, path, data, Options{Keep: all})
				if r.Changed() || len(r.Removed) != 0 {
					t.Errorf("%s: keeping every pod changed %+v", path, r.Removed)
				}
				// And dropping every pod gives a file that verifies and
				// holds none.
				r = plan(t, path, data, Options{Keep: NewPods()})
				if len(all) > 0 && (!r.Changed() || r.Kept != 0) {
					t.Errorf("%s: dropping every pod: changed %v kept %d", path, r.Changed(), r.Kept)
				}
				if r.Changed() && len(podsOf(t, path, r.Data)) != 0 {
					t.Errorf("%s: pods left after dropping all", path)
				}
			}
		}
	}
}

// podsOf lists every pod UID a checkpoint names.
func podsOf(t *testing.T, path string, data []byte) Pods {
	t.Helper()
	p := NewPods()
	res := kubelet.Examine(path, data)
	switch c := res.Content.(type) {
	case *cpumanager.Content:
		for pod := range c.Entries {
			p[pod] = struct{}{}
		}
		for pod := range c.PodEntries {
			p[pod] = struct{}{}
		}
	case *memorymanager.Content:
		for pod := range c.Entries {
			p[pod] = struct{}{}
		}
		for pod := range c.PodEntries {
			p[pod] = struct{}{}
		}
	case *devicemanager.Content:
		for _, a := range c.Allocations {
			p[a.PodUID] = struct{}{}
		}
	case *dra.Content:
		for _, pod := range c.Pods {
			p[pod] = struct{}{}
		}
	case *allocation.Content:
		for _, pod := range c.Pods {
			p[pod.UID] = struct{}{}
		}
	default:
		t.Fatalf("%s: content %T", path, res.Content)
	}
	return p
}

// Memory given back follows kubelet's release: reserved -> free on the
// nodes of the block's affinity, assignment counts drop, an empty node
// gets its own cell group back.
func TestMemoryRelease(t *testing.T) {
	table := func(total, reserved uint64) *memorymanager.MemoryTable {
		return &memorymanager.MemoryTable{TotalMemSize: total, Allocatable: total, Reserved: reserved, Free: total - reserved}
	}
	const gi = 1 << 30
	s := &memorymanager.State{
		PolicyName: "Static",
		MachineState: memorymanager.NUMANodeMap{
			0: {NumberOfAssignments: 2, Cells: []int{0, 1}, MemoryMap: map[memorymanager.ResourceName]*memorymanager.MemoryTable{"memory": table(8*gi, 6*gi)}},
			1: {NumberOfAssignments: 1, Cells: []int{0, 1}, MemoryMap: map[memorymanager.ResourceName]*memorymanager.MemoryTable{"memory": table(8*gi, 2*gi)}},
		},
		Entries: memorymanager.ContainerMemoryAssignments{
			podA: {"app": {{NUMAAffinity: []int{0}, Type: "memory", Size: 2 * gi}}},
			podB: {"db": {{NUMAAffinity: []int{0, 1}, Type: "memory", Size: 6 * gi}}},
		},
	}
	data, err := memorymanager.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	r := plan(t, "memory_manager_state", data, Options{Keep: NewPods(podA)})
	if len(r.Removed) != 1 || r.Removed[0].Holds != "memory 6 GiB on NUMA 0,1" {
		t.Fatalf("removed %+v", r.Removed)
	}
	out, err := memorymanager.Decode(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	n0, n1 := out.MachineState[0], out.MachineState[1]
	// Kubelet takes the released size from the nodes in affinity order, as
	// far as each has reserved memory: all 6 GiB from node 0, none from
	// node 1 (it does not track which node a block's bytes came from).
	if n0.MemoryMap["memory"].Reserved != 0 || n0.MemoryMap["memory"].Free != 8*gi ||
		n1.MemoryMap["memory"].Reserved != 2*gi || n1.MemoryMap["memory"].Free != 6*gi {
		t.Errorf("node 0 %+v, node 1 %+v", *n0.MemoryMap["memory"], *n1.MemoryMap["memory"])
	}
	if n0.NumberOfAssignments != 1 || n1.NumberOfAssignments != 0 || !reflect.DeepEqual(n1.Cells, []int{1}) ||
		!reflect.DeepEqual(n0.Cells, []int{0, 1}) {
		t.Errorf("assignments %d/%d cells %v/%v", n0.NumberOfAssignments, n1.NumberOfAssignments, n0.Cells, n1.Cells)
	}
}

// A rebase that would leave reserved memory without room fails and names
// the pods.
func TestRebaseDoesNotFit(t *testing.T) {
	const gi = 1 << 30
	s := &memorymanager.State{
		PolicyName: "Static",
		MachineState: memorymanager.NUMANodeMap{
			0: {NumberOfAssignments: 1, Cells: []int{0}, MemoryMap: map[memorymanager.ResourceName]*memorymanager.MemoryTable{
				"memory": {TotalMemSize: 8 * gi, Allocatable: 8 * gi, Reserved: 6 * gi, Free: 2 * gi}}},
		},
		Entries: memorymanager.ContainerMemoryAssignments{podA: {"app": {{NUMAAffinity: []int{0}, Type: "memory", Size: 6 * gi}}}},
	}
	for _, tc := range []struct {
		reason string
		m      *machine.Machine
	}{
		{"the node shrank below what is reserved", &machine.Machine{NUMA: map[int]machine.NUMANode{0: {MemoryTotal: 4 * gi}}}},
		{"the machine has other NUMA nodes", &machine.Machine{NUMA: map[int]machine.NUMANode{1: {MemoryTotal: 8 * gi}}}},
	} {
		_, err := Rebase(s, tc.m)
		if !errors.Is(err, ErrMachineMismatch) {
			t.Errorf("%s: %v", tc.reason, err)
		}
	}
	if s.MachineState[0].MemoryMap["memory"].TotalMemSize != 8*gi {
		t.Error("a failed rebase changed the state")
	}
}

func TestDRA(t *testing.T) {
	cd := dra.CheckpointData{ClaimInfoStateList: []dra.ClaimInfoState{
		{ClaimUID: "c1", ClaimName: "one", Namespace: "ns", PodUIDs: map[string]struct{}{podA: {}, podB: {}},
			DriverState: map[string]dra.DriverState{"gpu.example.com": {Devices: []dra.Device{{PoolName: "p", DeviceName: "d1"}}}}},
		{ClaimUID: "c2", ClaimName: "two", Namespace: "ns", PodUIDs: map[string]struct{}{podB: {}},
			DriverState: map[string]dra.DriverState{"gpu.example.com": {Devices: []dra.Device{{PoolName: "p", DeviceName: "d2"}}}}},
	}}
	data, err := dra.Encode(cd)
	if err != nil {
		t.Fatal(err)
	}
	r := plan(t, "dra_manager_state", data, Options{Keep: NewPods(podA)})
	if len(r.Removed) != 2 || r.Kept != 1 || len(r.Warnings) == 0 {
		t.Fatalf("%+v", r)
	}
	out, err := dra.Decode(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ClaimInfoStateList) != 1 || out.ClaimInfoStateList[0].ClaimUID != "c1" ||
		!reflect.DeepEqual(out.ClaimInfoStateList[0].PodUIDs, map[string]struct{}{podA: {}}) {
		t.Errorf("after prune: %+v", out)
	}
}

func TestAllocation(t *testing.T) {
	info := allocation.PodResourceCheckpointInfo{Entries: map[string]allocation.PodResourceInfo{
		podA: {ContainerResources: map[string]allocation.ResourceRequirements{"app": {Requests: allocation.ResourceList{"cpu": "1"}}}},
		podB: {ContainerResources: map[string]allocation.ResourceRequirements{"db": {Requests: allocation.ResourceList{"cpu": "2"}}}},
	}}
	data, err := allocation.Encode(info)
	if err != nil {
		t.Fatal(err)
	}
	r := plan(t, "allocated_pods_state", data, Options{Keep: NewPods(podA)})
	if len(r.Removed) != 1 || r.Removed[0].Pod != podB || r.Removed[0].Name != "db" {
		t.Fatalf("%+v", r.Removed)
	}
	out, err := allocation.Decode(r.Data)
	if err != nil || len(out.Entries) != 1 {
		t.Errorf("after prune: %+v %v", out, err)
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		reason string
		path   string
		opts   Options
		want   error
	}{
		{"a corrupt file is not pruned", filepath.Join(cases, "B20-dra-plugin-corrupt-crashloop", "dra_manager_state"),
			Options{Keep: NewPods(podA)}, ErrNotVerified},
		{"a V1 cpu file must be migrated first", filepath.Join(cases, "B30-panic-and-unactionable-errors", "valid-checksum-lost-cpu", "cpu_manager_state"),
			Options{Keep: NewPods(podA)}, ErrUnsupported},
		{"neither pods nor machine", filepath.Join(cases, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state"),
			Options{}, ErrNothingToCompare},
	} {
		_, err := Plan(tc.path, read(t, tc.path), tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.reason, err, tc.want)
		}
	}
	_, err := Plan("x", []byte("{}"), Options{Keep: NewPods()})
	if !errors.Is(err, ErrNotVerified) {
		t.Errorf("unknown content: %v", err)
	}
}

func TestVerifier(t *testing.T) {
	path := filepath.Join(cases, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	r := plan(t, path, read(t, path), Options{Keep: NewPods(podA)})
	v := Verifier(r)
	if err := v(r.Data); err != nil {
		t.Errorf("the planned bytes: %v", err)
	}
	if err := v([]byte(`{"policyName":"static","defaultCpuSet":"0","checksum":1}`)); err == nil {
		t.Error("a corrupt file passed")
	}
	if err := v(read(t, cases, "B15-device-stale-entries", "kubelet_internal_checkpoint")); err == nil {
		t.Error("a file of another kind passed")
	}
	_ = check.Valid
}
