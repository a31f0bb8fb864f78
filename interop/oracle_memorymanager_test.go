package interop

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"
	"sigs.k8s.io/randfill"

	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

const memoryFile = "memory_manager_state"

// kubeletMemoryState is what kubelet's memory manager restores.
type kubeletMemoryState struct {
	Machine memstate.NUMANodeMap
	Entries memstate.ContainerMemoryAssignments
	Pods    memstate.PodMemoryAssignments
}

func restoreMemory(t *testing.T, dir, policy string) (memstate.State, kubeletMemoryState) {
	t.Helper()
	st, err := memstate.NewCheckpointState(logr.Discard(), dir, memoryFile, policy)
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v", err)
	}
	return st, kubeletMemoryState{st.GetMachineState(), st.GetMemoryAssignments(), st.GetPodMemoryAssignments()}
}

// TestMemoryManagerOracle is TestCPUManagerOracle for the memory manager:
// random states written by kubelet v1.37.2 through its setters (values from
// randfill, nil and empty included) and every kubelet-generated file.
func TestMemoryManagerOracle(t *testing.T) {
	for _, gc := range gateConfigs {
		t.Run(gc.name, func(t *testing.T) {
			setResourceGates(t, gc.on)
			// Kubelet never holds nil node states or memory tables (its
			// Clone would panic on one); nil maps and slices it does.
			f := randfill.NewWithSeed(3).NilChance(0.15).NumElements(0, 4).Funcs(
				func(p **memstate.NUMANodeState, c randfill.Continue) {
					*p = new(memstate.NUMANodeState)
					c.Fill(*p)
				},
				func(p **memstate.MemoryTable, c randfill.Continue) {
					*p = new(memstate.MemoryTable)
					c.Fill(*p)
				},
			)
			for i := range 40 {
				policy := []string{"Static", "None"}[i%2]
				kdir := t.TempDir()
				st, _ := restoreMemory(t, kdir, policy)
				var machine memstate.NUMANodeMap
				f.Fill(&machine)
				st.SetMachineState(machine)
				var entries memstate.ContainerMemoryAssignments
				f.Fill(&entries)
				st.SetMemoryAssignments(entries)
				if gc.on {
					var pods memstate.PodMemoryAssignments
					f.Fill(&pods)
					st.SetPodMemoryAssignments(pods)
				}
				checkMemoryRoundTrip(t, fmt.Sprintf("random state #%d", i), readFile(t, filepath.Join(kdir, memoryFile)), policy)
			}
			for _, file := range generatedFiles(t, "memorymanager") {
				b := readFile(t, file)
				s, err := memorymanager.Decode(b)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				checkMemoryRoundTrip(t, file, b, s.PolicyName)
			}
		})
	}
}

func checkMemoryRoundTrip(t *testing.T, what string, kubeletBytes []byte, policy string) {
	t.Helper()
	s, err := memorymanager.Decode(kubeletBytes)
	if err != nil {
		t.Errorf("%s: ckpt cannot decode kubelet's file: %v", what, err)
		return
	}
	ours, err := memorymanager.Encode(s)
	if err != nil {
		t.Errorf("%s: encode: %v", what, err)
		return
	}
	if !bytes.Equal(ours, kubeletBytes) {
		t.Errorf("%s: ckpt wrote different bytes: %s", what, firstDiff(ours, kubeletBytes))
		return
	}
	kdir, odir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(kdir, memoryFile), kubeletBytes)
	writeFile(t, filepath.Join(odir, memoryFile), ours)
	kst, want := restoreMemory(t, kdir, policy)
	st, got := restoreMemory(t, odir, policy)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: kubelet restored a different state from ckpt's file", what)
	}
	kst.SetMachineState(kst.GetMachineState())
	st.SetMachineState(st.GetMachineState())
	fromKubelet, fromOurs := readFile(t, filepath.Join(kdir, memoryFile)), readFile(t, filepath.Join(odir, memoryFile))
	if !bytes.Equal(fromOurs, fromKubelet) {
		t.Errorf("%s: kubelet re-wrote ckpt's state differently: %s", what, firstDiff(fromOurs, fromKubelet))
	}
	if s, err := memorymanager.Decode(fromKubelet); err != nil {
		t.Errorf("%s: ckpt cannot decode kubelet's re-write: %v", what, err)
	} else if again, err := memorymanager.Encode(s); err != nil || !bytes.Equal(again, fromKubelet) {
		t.Errorf("%s: ckpt re-encodes kubelet's re-write differently (%v): %s", what, err, firstDiff(again, fromKubelet))
	}
}
