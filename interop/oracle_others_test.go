package interop

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/resource"
	allocstate "k8s.io/kubernetes/pkg/kubelet/allocation/state"
	kcm "k8s.io/kubernetes/pkg/kubelet/checkpointmanager"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	drastate "k8s.io/kubernetes/pkg/kubelet/cm/dra/state"
	"sigs.k8s.io/randfill"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
)

// formatOracle is how one consumer's oracle drives both implementations.
type formatOracle struct {
	kind string // directory under testdata/kubelet-generated
	file string
	// kubeletWrite makes kubelet write random state number i into dir.
	kubeletWrite func(t *testing.T, f *randfill.Filler, dir string)
	// reencode is ckpt's Decode then Encode.
	reencode func(b []byte) ([]byte, error)
	// kubeletLoad is how kubelet restores the state from dir.
	kubeletLoad func(dir string) (any, error)
}

func reencode[S any](decode func([]byte) (*S, error), encode func(S) ([]byte, error)) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		s, err := decode(b)
		if err != nil {
			return nil, err
		}
		return encode(*s)
	}
}

// quantityFiller fills quantities with random valid values (randfill cannot
// reach their unexported fields).
func quantityFiller(seed uint64) func(q *resource.Quantity, c randfill.Continue) {
	r := rand.New(rand.NewPCG(seed, 11))
	return func(q *resource.Quantity, c randfill.Continue) {
		forms := []string{"%d", "%dm", "%dMi", "%dGi", "%dk", "%de3", "%d.25"}
		*q = resource.MustParse(fmt.Sprintf(forms[r.IntN(len(forms))], r.Int64N(1<<34)))
	}
}

func otherOracles() []formatOracle {
	return []formatOracle{
		{
			kind: "devicemanager", file: "kubelet_internal_checkpoint",
			kubeletWrite: func(t *testing.T, f *randfill.Filler, dir string) {
				var entries []dmcheckpoint.PodDevicesEntry
				var devices map[string][]string
				f.Fill(&entries)
				f.Fill(&devices)
				m, err := kcm.NewCheckpointManager(dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.CreateCheckpoint("kubelet_internal_checkpoint", dmcheckpoint.New(entries, devices)); err != nil {
					t.Fatal(err)
				}
			},
			reencode: reencode(devicemanager.Decode, devicemanager.Encode),
			kubeletLoad: func(dir string) (any, error) {
				// As the device manager's readCheckpoint does.
				m, err := kcm.NewCheckpointManager(dir)
				if err != nil {
					return nil, err
				}
				cp := dmcheckpoint.New(make([]dmcheckpoint.PodDevicesEntry, 0), make(map[string][]string))
				if err := m.GetCheckpoint("kubelet_internal_checkpoint", cp); err != nil {
					return nil, err
				}
				entries, devices := cp.GetData()
				return []any{entries, devices}, nil
			},
		},
		{
			kind: "dra", file: "dra_manager_state",
			kubeletWrite: func(t *testing.T, f *randfill.Filler, dir string) {
				var list drastate.ClaimInfoStateList
				f.Fill(&list)
				cp, err := drastate.NewCheckpoint(list)
				if err != nil {
					t.Fatal(err)
				}
				c, err := drastate.NewCheckpointer(dir, "dra_manager_state")
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Store(cp); err != nil {
					t.Fatal(err)
				}
			},
			reencode: reencode(dra.Decode, dra.Encode),
			kubeletLoad: func(dir string) (any, error) {
				// As the DRA manager's claim info cache does.
				c, err := drastate.NewCheckpointer(dir, "dra_manager_state")
				if err != nil {
					return nil, err
				}
				cp, err := c.GetOrCreate()
				if err != nil {
					return nil, err
				}
				return cp.GetClaimInfoStateList()
			},
		},
		{
			kind: "allocation", file: "allocated_pods_state",
			kubeletWrite: func(t *testing.T, f *randfill.Filler, dir string) {
				var entries allocstate.PodResourceInfoMap
				f.Fill(&entries)
				cp, err := allocstate.NewCheckpoint(&allocstate.PodResourceCheckpointInfo{Entries: entries})
				if err != nil {
					t.Fatal(err)
				}
				m, err := kcm.NewCheckpointManager(dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.CreateCheckpoint("allocated_pods_state", cp); err != nil {
					t.Fatal(err)
				}
			},
			reencode: reencode(allocation.Decode, allocation.Encode),
			kubeletLoad: func(dir string) (any, error) {
				st, err := allocstate.NewStateCheckpoint(logr.Discard(), dir, "allocated_pods_state")
				if err != nil {
					return nil, err
				}
				return st.GetPodResourceInfoMap(), nil
			},
		},
	}
}

// TestFormatOracles: for random states written by kubelet v1.37.2's own
// code (values from randfill, nil and empty included) and for every
// kubelet-generated file of the device manager, DRA and allocation
// checkpoints, ckpt decodes the file and encodes it back to the same bytes,
// and kubelet's loader accepts what ckpt wrote and restores the same state.
func TestFormatOracles(t *testing.T) {
	for i, o := range otherOracles() {
		t.Run(o.kind, func(t *testing.T) {
			f := randfill.NewWithSeed(int64(i)).NilChance(0.15).NumElements(0, 5).Funcs(quantityFiller(uint64(i)))
			for n := range 40 {
				dir := t.TempDir()
				o.kubeletWrite(t, f, dir)
				checkFormatRoundTrip(t, o, fmt.Sprintf("random state #%d", n), readFile(t, filepath.Join(dir, o.file)))
			}
			for _, file := range generatedFiles(t, o.kind) {
				checkFormatRoundTrip(t, o, file, readFile(t, file))
			}
		})
	}
}

func checkFormatRoundTrip(t *testing.T, o formatOracle, what string, kubeletBytes []byte) {
	t.Helper()
	ours, err := o.reencode(kubeletBytes)
	if err != nil {
		t.Errorf("%s: ckpt cannot decode and encode kubelet's file: %v", what, err)
		return
	}
	if !bytes.Equal(ours, kubeletBytes) {
		t.Errorf("%s: ckpt wrote different bytes: %s", what, firstDiff(ours, kubeletBytes))
		return
	}
	kdir, odir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(kdir, o.file), kubeletBytes)
	writeFile(t, filepath.Join(odir, o.file), ours)
	want, err := o.kubeletLoad(kdir)
	if err != nil {
		t.Fatalf("%s: kubelet cannot load its own file: %v", what, err)
	}
	got, err := o.kubeletLoad(odir)
	if err != nil {
		t.Errorf("%s: kubelet v1.37.2 refused ckpt's file: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: kubelet restored a different state from ckpt's file", what)
	}
}
