package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	allocstate "k8s.io/kubernetes/pkg/kubelet/allocation/state"
	kcm "k8s.io/kubernetes/pkg/kubelet/checkpointmanager"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	drastate "k8s.io/kubernetes/pkg/kubelet/cm/dra/state"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"

	"github.com/ckptkit/ckpt/checkpointmanager"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// A consumer is one of kubelet's checkpoint users, set up twice: as kubelet
// v1.37.2 runs it (its checkpointmanager and its checkpoint types), and as
// ckpt runs it (ckpt's checkpointmanager drop-in with a checkpoint that
// encodes and decodes through ckpt's format package for that file).
//
// Both sides do the same work per operation, what the consumer does to save
// or restore its state:
//   - create: build the checkpoint from the in-memory state (serialize,
//     checksum) and CreateCheckpoint it;
//   - get: GetCheckpoint into a fresh checkpoint (read, decode, verify) and,
//     where kubelet keeps the state as a JSON string inside the checkpoint
//     (DRA, allocation), decode that string too, as kubelet's restore does.
type consumer struct {
	name string
	key  string // the file name kubelet uses
	file string // the realistic file under testdata/kubelet-generated
	// kubelet and ckpt make independent per-goroutine savers and loaders.
	kubelet, ckpt side
}

// side is one implementation of a consumer.
type side struct {
	// newManager opens a checkpoint manager on dir.
	newManager func(dir string) (kcm.CheckpointManager, error)
	// newSaver returns a function that saves the realistic state under key;
	// each call returns one with its own checkpoint object, for its own
	// goroutine.
	newSaver func(tb testing.TB) func(m kcm.CheckpointManager, key string) error
	// load restores the state saved under key.
	load func(m kcm.CheckpointManager, key string) error
}

// kubeletManager opens kubelet's checkpoint manager.
func kubeletManager(dir string) (kcm.CheckpointManager, error) { return kcm.NewCheckpointManager(dir) }

// ckptManager opens ckpt's drop-in. Its interfaces have the same methods as
// kubelet's, so it is used through kubelet's interface type.
func ckptManager(dir string) (kcm.CheckpointManager, error) {
	m, err := checkpointmanager.NewCheckpointManager(dir)
	if err != nil {
		return nil, err
	}
	return dropIn{m}, nil
}

// dropIn adapts ckpt's manager to kubelet's interface (the Checkpoint
// argument types are distinct interface types with identical methods).
type dropIn struct {
	m checkpointmanager.CheckpointManager
}

func (d dropIn) CreateCheckpoint(key string, cp kcm.Checkpoint) error {
	return d.m.CreateCheckpoint(key, cp)
}
func (d dropIn) GetCheckpoint(key string, cp kcm.Checkpoint) error {
	return d.m.GetCheckpoint(key, cp)
}
func (d dropIn) RemoveCheckpoint(key string) error  { return d.m.RemoveCheckpoint(key) }
func (d dropIn) ListCheckpoints() ([]string, error) { return d.m.ListCheckpoints() }

// formatCheckpoint is a checkpoint kept as a ckpt format package's typed
// state: Marshal is the package's Encode and Unmarshal its Decode, which
// verifies every checksum the file carries (so VerifyChecksum has nothing
// left to do).
type formatCheckpoint[S any] struct {
	state  S
	encode func(S) ([]byte, error)
	decode func([]byte) (S, error)
}

func (c *formatCheckpoint[S]) MarshalCheckpoint() ([]byte, error) { return c.encode(c.state) }
func (c *formatCheckpoint[S]) UnmarshalCheckpoint(b []byte) error {
	s, err := c.decode(b)
	if err != nil {
		return err
	}
	c.state = s
	return nil
}
func (c *formatCheckpoint[S]) VerifyChecksum() error { return nil }

// realistic returns the bytes of a consumer's realistic file.
func realistic(tb testing.TB, c consumer) []byte { return readGenerated(tb, c.file) }

// readGenerated reads a file under testdata/kubelet-generated.
func readGenerated(tb testing.TB, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "kubelet-generated", file))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// formatSide builds the ckpt side of a consumer from its format package.
func formatSide[S any](file string, encode func(S) ([]byte, error), decode func([]byte) (S, error)) side {
	return side{
		newManager: ckptManager,
		newSaver: func(tb testing.TB) func(kcm.CheckpointManager, string) error {
			b := readGenerated(tb, file)
			s, err := decode(b)
			if err != nil {
				tb.Fatal(err)
			}
			cp := &formatCheckpoint[S]{state: s, encode: encode, decode: decode}
			return func(m kcm.CheckpointManager, key string) error { return m.CreateCheckpoint(key, cp) }
		},
		load: func(m kcm.CheckpointManager, key string) error {
			return m.GetCheckpoint(key, &formatCheckpoint[S]{encode: encode, decode: decode})
		},
	}
}

// kubeletSide builds the kubelet side of a consumer whose checkpoint object
// holds the state (cpu, memory and device managers): fresh returns the
// object kubelet decodes into.
func kubeletSide(file string, fresh func() kcm.Checkpoint) side {
	return side{
		newManager: kubeletManager,
		newSaver: func(tb testing.TB) func(kcm.CheckpointManager, string) error {
			cp := fresh()
			b := readGenerated(tb, file)
			if err := cp.UnmarshalCheckpoint(b); err != nil {
				tb.Fatal(err)
			}
			return func(m kcm.CheckpointManager, key string) error { return m.CreateCheckpoint(key, cp) }
		},
		load: func(m kcm.CheckpointManager, key string) error { return m.GetCheckpoint(key, fresh()) },
	}
}

// newKubeletCPU is kubelet's newCPUManagerCheckpointV4 (unexported).
func newKubeletCPU() kcm.Checkpoint {
	return &cpustate.CPUManagerCheckpoint{
		CPUManagerCheckpointV2: cpustate.CPUManagerCheckpointV2{Entries: map[string]map[string]string{}},
		CheckpointData: cpustate.CPUManagerCheckpointData{
			Entries:    map[string]map[string]string{},
			PodEntries: cpustate.PodCPUAssignments{},
			Baselines:  map[string]map[string]cpustate.ContainerCPUs{},
		},
	}
}

// newKubeletMemory is kubelet's newMemoryManagerCheckpointV3 (unexported).
func newKubeletMemory() kcm.Checkpoint {
	return &memstate.MemoryManagerCheckpoint{
		MemoryManagerCheckpointV1: memstate.MemoryManagerCheckpointV1{
			Entries: memstate.ContainerMemoryAssignments{}, MachineState: memstate.NUMANodeMap{},
		},
		CheckpointData: memstate.MemoryManagerCheckpointData{
			Entries: memstate.ContainerMemoryAssignments{}, PodEntries: memstate.PodMemoryAssignments{},
			MachineState: memstate.NUMANodeMap{},
		},
	}
}

func newKubeletDevices() kcm.Checkpoint {
	return dmcheckpoint.New([]dmcheckpoint.PodDevicesEntry{}, map[string][]string{})
}

// consumers lists kubelet's five checkpoint users at the realistic sizes
// of testdata/kubelet-generated.
func consumers() []consumer {
	return []consumer{
		{
			name: "cpumanager", key: "cpu_manager_state", file: "cpumanager/realistic/cpu_manager_state",
			kubelet: kubeletSide("cpumanager/realistic/cpu_manager_state", newKubeletCPU),
			ckpt:    formatSide("cpumanager/realistic/cpu_manager_state", cpumanager.Encode, cpumanager.Decode),
		},
		{
			name: "memorymanager", key: "memory_manager_state", file: "memorymanager/realistic/memory_manager_state",
			kubelet: kubeletSide("memorymanager/realistic/memory_manager_state", newKubeletMemory),
			ckpt:    formatSide("memorymanager/realistic/memory_manager_state", memorymanager.Encode, memorymanager.Decode),
		},
		{
			name: "devicemanager", key: "kubelet_internal_checkpoint", file: "devicemanager/realistic/kubelet_internal_checkpoint",
			kubelet: kubeletSide("devicemanager/realistic/kubelet_internal_checkpoint", newKubeletDevices),
			ckpt: formatSide("devicemanager/realistic/kubelet_internal_checkpoint",
				func(c *devicemanager.Checkpoint) ([]byte, error) { return devicemanager.Encode(*c) }, devicemanager.Decode),
		},
		{
			name: "dra", key: "dra_manager_state", file: "dra/realistic/dra_manager_state",
			kubelet: side{
				newManager: kubeletManager,
				newSaver: func(tb testing.TB) func(kcm.CheckpointManager, string) error {
					b := readGenerated(tb, "dra/realistic/dra_manager_state")
					var cp drastate.Checkpoint
					if err := cp.UnmarshalCheckpoint(b); err != nil {
						tb.Fatal(err)
					}
					list, err := cp.GetClaimInfoStateList()
					if err != nil {
						tb.Fatal(err)
					}
					// As kubelet's claim info cache stores its state.
					return func(m kcm.CheckpointManager, key string) error {
						cp, err := drastate.NewCheckpoint(list)
						if err != nil {
							return err
						}
						return m.CreateCheckpoint(key, cp)
					}
				},
				load: func(m kcm.CheckpointManager, key string) error {
					// As GetOrCreate and the claim info cache restore it.
					cp := &drastate.Checkpoint{}
					if err := m.GetCheckpoint(key, cp); err != nil {
						return err
					}
					_, err := cp.GetClaimInfoStateList()
					return err
				},
			},
			ckpt: formatSide("dra/realistic/dra_manager_state",
				func(c *dra.CheckpointData) ([]byte, error) { return dra.Encode(*c) }, dra.Decode),
		},
		{
			name: "allocation", key: "allocated_pods_state", file: "allocation/realistic/allocated_pods_state",
			kubelet: side{
				newManager: kubeletManager,
				newSaver: func(tb testing.TB) func(kcm.CheckpointManager, string) error {
					b := readGenerated(tb, "allocation/realistic/allocated_pods_state")
					var cp allocstate.Checkpoint
					if err := cp.UnmarshalCheckpoint(b); err != nil {
						tb.Fatal(err)
					}
					info, err := cp.GetPodResourceCheckpointInfo()
					if err != nil {
						tb.Fatal(err)
					}
					// As the allocation manager's storeState does.
					return func(m kcm.CheckpointManager, key string) error {
						cp, err := allocstate.NewCheckpoint(&allocstate.PodResourceCheckpointInfo{Entries: info.Entries})
						if err != nil {
							return err
						}
						return m.CreateCheckpoint(key, cp)
					}
				},
				load: func(m kcm.CheckpointManager, key string) error {
					// As restoreState does.
					cp := &allocstate.Checkpoint{}
					if err := m.GetCheckpoint(key, cp); err != nil {
						return err
					}
					_, err := cp.GetPodResourceCheckpointInfo()
					return err
				},
			},
			ckpt: formatSide("allocation/realistic/allocated_pods_state",
				func(c *allocation.PodResourceCheckpointInfo) ([]byte, error) { return allocation.Encode(*c) }, allocation.Decode),
		},
	}
}

// TestConsumersCrossRead checks the benchmark set-up: what each side saves,
// the other side restores, and both write the realistic file's bytes.
func TestConsumersCrossRead(t *testing.T) {
	for _, c := range consumers() {
		t.Run(c.name, func(t *testing.T) {
			want := realistic(t, c)
			for _, pair := range []struct {
				reason         string
				writer, reader side
			}{
				{"kubelet reads what ckpt wrote", c.ckpt, c.kubelet},
				{"ckpt reads what kubelet wrote", c.kubelet, c.ckpt},
			} {
				dir := t.TempDir()
				wm, err := pair.writer.newManager(dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := pair.writer.newSaver(t)(wm, c.key); err != nil {
					t.Fatalf("%s: save: %v", pair.reason, err)
				}
				got, err := os.ReadFile(filepath.Join(dir, c.key))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("%s: written bytes differ from the realistic file (%d vs %d bytes)", pair.reason, len(got), len(want))
				}
				rm, err := pair.reader.newManager(dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := pair.reader.load(rm, c.key); err != nil {
					t.Errorf("%s: load: %v", pair.reason, err)
				}
			}
		})
	}
}

// decodeJSON is encoding/json's Unmarshal (kept in one place for tests that
// only need a field or two of a file).
func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }
