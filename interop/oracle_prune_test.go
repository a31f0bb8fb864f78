package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	allocstate "k8s.io/kubernetes/pkg/kubelet/allocation/state"
	kcm "k8s.io/kubernetes/pkg/kubelet/checkpointmanager"
	"k8s.io/kubernetes/pkg/kubelet/cm/containermap"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	drastate "k8s.io/kubernetes/pkg/kubelet/cm/dra/state"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"
	"k8s.io/utils/cpuset"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

// The oracle for `ckpt prune`: every file it writes is loaded by kubelet
// v1.37.2's own loaders, which must accept it and restore the state the case
// asks for. For the CPU manager the test also checks the invariants that
// kubelet's static policy validates at start (its validateState cannot be
// called from here without adding cadvisor to this module).

const (
	prunePodA = "aaaaaaaa-0000-4000-8000-00000000000a"
	prunePodB = "bbbbbbbb-0000-4000-8000-00000000000b"
)

func pruneCase(t *testing.T, parts ...string) (string, []byte) {
	t.Helper()
	path := filepath.Join(append([]string{"..", "testdata", "cases"}, parts...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func prunePlan(t *testing.T, path string, data []byte, opts prune.Options) []byte {
	t.Helper()
	r, err := prune.Plan(path, data, opts)
	if err != nil {
		t.Fatalf("prune %s: %v", path, err)
	}
	if !r.Changed() {
		t.Fatalf("prune %s changed nothing", path)
	}
	return r.Data
}

// pruneDir puts b under name in a fresh directory, as kubelet would find it.
func pruneDir(t *testing.T, name string, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pruneLoadCPU(t *testing.T, b []byte) cpustate.State {
	t.Helper()
	st, err := cpustate.NewCheckpointState(logr.Discard(), pruneDir(t, "cpu_manager_state", b), "cpu_manager_state", "static",
		containermap.NewContainerMap())
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the pruned file: %v\n%s", err, b)
	}
	return st
}

// checkStaticInvariants restates the static policy's start-up checks:
// reserved CPUs in the default set, no assigned CPU in the default set,
// default set and assignments together exactly the machine's CPUs.
func checkStaticInvariants(t *testing.T, st cpustate.State, all, reserved cpuset.CPUSet) {
	t.Helper()
	for _, p := range staticProblems(st, all, reserved) {
		t.Error(p)
	}
}

func staticProblems(st cpustate.State, all, reserved cpuset.CPUSet) []string {
	var out []string
	def := st.GetDefaultCPUSet()
	if !reserved.IsSubsetOf(def) {
		out = append(out, fmt.Sprintf("reserved %s not in the default set %s", reserved, def))
	}
	known := def.Clone()
	for pod, ctrs := range st.GetCPUAssignments() {
		for ctr, set := range ctrs {
			if !set.Intersection(def).IsEmpty() {
				out = append(out, fmt.Sprintf("%s/%s %s overlaps the default set %s", pod, ctr, set, def))
			}
			known = known.Union(set)
		}
	}
	if !known.Equals(all) {
		out = append(out, fmt.Sprintf("CPUs in state %s, machine %s", known, all))
	}
	return out
}

func TestPruneOracleCPU(t *testing.T) {
	all, reserved := cpuset.New(0, 1, 2, 3, 4, 5, 6, 7), cpuset.New(0)
	b05, err := machine.ReadFile(filepath.Join("..", "testdata", "cases", "B05-cpu-torn-multiwrite-leak-overlap", "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("B07: the stale pod's CPUs return to the default set", func(t *testing.T) {
		path, data := pruneCase(t, "B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
		st := pruneLoadCPU(t, prunePlan(t, path, data, prune.Options{Keep: prune.NewPods(prunePodA)}))
		if got := st.GetDefaultCPUSet().String(); got != "0,3-7" {
			t.Errorf("default set %q, want 0,3-7", got)
		}
		as := st.GetCPUAssignments()
		if len(as) != 1 || as[prunePodA]["app"].String() != "1-2" {
			t.Errorf("assignments %v, want only %s/app on 1-2", as, prunePodA)
		}
		checkStaticInvariants(t, st, all, reserved)
	})
	t.Run("the B05 files as they are break the invariants (the check can fail)", func(t *testing.T) {
		for _, f := range []string{"leak", "overlap"} {
			_, data := pruneCase(t, "B05-cpu-torn-multiwrite-leak-overlap", f, "cpu_manager_state")
			if len(staticProblems(pruneLoadCPU(t, data), all, reserved)) == 0 {
				t.Errorf("%s: no problem found", f)
			}
		}
	})
	t.Run("B05 leak: CPUs 1-2 return to the default set", func(t *testing.T) {
		path, data := pruneCase(t, "B05-cpu-torn-multiwrite-leak-overlap", "leak", "cpu_manager_state")
		st := pruneLoadCPU(t, prunePlan(t, path, data, prune.Options{Machine: b05}))
		checkStaticInvariants(t, st, all, reserved)
	})
	t.Run("B05 overlap, holder running: CPUs 1-2 leave the default set", func(t *testing.T) {
		path, data := pruneCase(t, "B05-cpu-torn-multiwrite-leak-overlap", "overlap", "cpu_manager_state")
		st := pruneLoadCPU(t, prunePlan(t, path, data, prune.Options{Machine: b05, Keep: prune.NewPods(prunePodA)}))
		if st.GetCPUSetOrDefault(prunePodA, "app").String() != "1-2" {
			t.Errorf("the running container lost its CPUs")
		}
		checkStaticInvariants(t, st, all, reserved)
	})
	t.Run("B05 overlap, holder gone: the assignment goes", func(t *testing.T) {
		path, data := pruneCase(t, "B05-cpu-torn-multiwrite-leak-overlap", "overlap", "cpu_manager_state")
		st := pruneLoadCPU(t, prunePlan(t, path, data, prune.Options{Machine: b05, Keep: prune.NewPods(prunePodB)}))
		if len(st.GetCPUAssignments()) != 0 {
			t.Errorf("assignments %v", st.GetCPUAssignments())
		}
		checkStaticInvariants(t, st, all, reserved)
	})
}

func TestPruneOracleMemory(t *testing.T) {
	t.Run("B08: totals rebased on the machine", func(t *testing.T) {
		dir := filepath.Join("..", "testdata", "cases", "B08-memory-numa-total-drift-after-reboot")
		m, err := machine.ReadFile(filepath.Join(dir, "machine.json"))
		if err != nil {
			t.Fatal(err)
		}
		path, data := pruneCase(t, "B08-memory-numa-total-drift-after-reboot", "memory_manager_state")
		b := prunePlan(t, path, data, prune.Options{Machine: m})
		st, err := memstate.NewCheckpointState(logr.Discard(), pruneDir(t, "memory_manager_state", b), "memory_manager_state", "Static")
		if err != nil {
			t.Fatalf("kubelet v1.37.2 refused the rebased file: %v", err)
		}
		ms := st.GetMachineState()
		for n, total := range map[int]uint64{0: 68677533696, 1: 68761419776} {
			mem := ms[n].MemoryMap["memory"]
			if mem.TotalMemSize != total || mem.SystemReserved != 1<<30 || mem.Allocatable != total-1<<30 || mem.Free != mem.Allocatable {
				t.Errorf("node %d restored as %+v", n, *mem)
			}
		}
	})
	t.Run("a stale container's memory returns to the node", func(t *testing.T) {
		const gi = 1 << 30
		table := func(reserved uint64) *memorymanager.MemoryTable {
			return &memorymanager.MemoryTable{TotalMemSize: 8 * gi, Allocatable: 8 * gi, Reserved: reserved, Free: 8*gi - reserved}
		}
		s := &memorymanager.State{PolicyName: "Static",
			MachineState: memorymanager.NUMANodeMap{0: {NumberOfAssignments: 2, Cells: []int{0},
				MemoryMap: map[memorymanager.ResourceName]*memorymanager.MemoryTable{"memory": table(3 * gi)}}},
			Entries: memorymanager.ContainerMemoryAssignments{
				prunePodA: {"app": {{NUMAAffinity: []int{0}, Type: "memory", Size: 1 * gi}}},
				prunePodB: {"db": {{NUMAAffinity: []int{0}, Type: "memory", Size: 2 * gi}}},
			}}
		data, err := memorymanager.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		b := prunePlan(t, "memory_manager_state", data, prune.Options{Keep: prune.NewPods(prunePodA)})
		st, err := memstate.NewCheckpointState(logr.Discard(), pruneDir(t, "memory_manager_state", b), "memory_manager_state", "Static")
		if err != nil {
			t.Fatalf("kubelet v1.37.2 refused the pruned file: %v", err)
		}
		n0 := st.GetMachineState()[0]
		if mem := n0.MemoryMap["memory"]; mem.Reserved != gi || mem.Free != 7*gi || n0.NumberOfAssignments != 1 {
			t.Errorf("node 0 restored as %+v, %d assignments", *mem, n0.NumberOfAssignments)
		}
		if as := st.GetMemoryAssignments(); len(as) != 1 || len(as[prunePodA]["app"]) != 1 {
			t.Errorf("assignments %v", as)
		}
	})
}

func TestPruneOracleOthers(t *testing.T) {
	t.Run("B15: one device entry restored", func(t *testing.T) {
		path, data := pruneCase(t, "B15-device-stale-entries", "kubelet_internal_checkpoint")
		b := prunePlan(t, path, data, prune.Options{Keep: prune.NewPods(prunePodA)})
		m, err := kcm.NewCheckpointManager(pruneDir(t, "kubelet_internal_checkpoint", b))
		if err != nil {
			t.Fatal(err)
		}
		cp := dmcheckpoint.New(make([]dmcheckpoint.PodDevicesEntry, 0), make(map[string][]string))
		if err := m.GetCheckpoint("kubelet_internal_checkpoint", cp); err != nil {
			t.Fatalf("kubelet v1.37.2 refused the pruned file: %v", err)
		}
		entries, registered := cp.GetData()
		if len(entries) != 1 || entries[0].PodUID != prunePodA || len(registered["nvidia.com/gpu"]) != 2 {
			t.Errorf("restored %+v %v", entries, registered)
		}
	})
	t.Run("DRA: a claim of a gone pod goes, a shared claim keeps its other pod", func(t *testing.T) {
		cd := dra.CheckpointData{ClaimInfoStateList: []dra.ClaimInfoState{
			{ClaimUID: "c1", ClaimName: "shared", Namespace: "ns", PodUIDs: map[string]struct{}{prunePodA: {}, prunePodB: {}},
				DriverState: map[string]dra.DriverState{"gpu.example.com": {Devices: []dra.Device{{PoolName: "p", DeviceName: "d1",
					RequestNames: []string{"gpu"}, CDIDeviceIDs: []string{"gpu.example.com/gpu=d1"}}}}}},
			{ClaimUID: "c2", ClaimName: "gone", Namespace: "ns", PodUIDs: map[string]struct{}{prunePodB: {}}},
		}}
		data, err := dra.Encode(cd)
		if err != nil {
			t.Fatal(err)
		}
		b := prunePlan(t, "dra_manager_state", data, prune.Options{Keep: prune.NewPods(prunePodA)})
		c, err := drastate.NewCheckpointer(pruneDir(t, "dra_manager_state", b), "dra_manager_state")
		if err != nil {
			t.Fatal(err)
		}
		cp, err := c.GetOrCreate()
		if err != nil {
			t.Fatalf("kubelet v1.37.2 refused the pruned file: %v", err)
		}
		list, err := cp.GetClaimInfoStateList()
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ClaimUID != "c1" || list[0].PodUIDs.Len() != 1 || !list[0].PodUIDs.Has(prunePodA) ||
			len(list[0].DriverState["gpu.example.com"].Devices) != 1 {
			t.Errorf("restored %+v", list)
		}
	})
	t.Run("allocation: the stale pod's entry goes", func(t *testing.T) {
		info := allocation.PodResourceCheckpointInfo{Entries: map[string]allocation.PodResourceInfo{
			prunePodA: {ContainerResources: map[string]allocation.ResourceRequirements{"app": {Requests: allocation.ResourceList{"cpu": "1"}}}},
			prunePodB: {ContainerResources: map[string]allocation.ResourceRequirements{"db": {Requests: allocation.ResourceList{"cpu": "2"}}}},
		}}
		data, err := allocation.Encode(info)
		if err != nil {
			t.Fatal(err)
		}
		b := prunePlan(t, "allocated_pods_state", data, prune.Options{Keep: prune.NewPods(prunePodA)})
		st, err := allocstate.NewStateCheckpoint(logr.Discard(), pruneDir(t, "allocated_pods_state", b), "allocated_pods_state")
		if err != nil {
			t.Fatalf("kubelet v1.37.2 refused the pruned file: %v", err)
		}
		m := st.GetPodResourceInfoMap()
		if _, ok := m[prunePodA]; len(m) != 1 || !ok {
			t.Errorf("restored %v", m)
		}
	})
}
