package interop

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/cm/containermap"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	"k8s.io/utils/cpuset"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
)

const cpuFile = "cpu_manager_state"

// gateConfigs are the feature-gate settings the cpu and memory manager
// oracles run under: kubelet 1.37's defaults, and with the gates that make
// it read and write pod-level entries and CPU baselines.
var gateConfigs = []struct {
	name string
	on   bool
}{{"default-gates", false}, {"pod-level-and-baseline-gates", true}}

func setResourceGates(t *testing.T, on bool) {
	t.Helper()
	if !on {
		return
	}
	featuregatetesting.SetFeatureGatesDuringTest(t, utilfeature.DefaultFeatureGate, featuregatetesting.FeatureOverrides{
		features.PodLevelResources:                      true,
		features.PodLevelResourceManagers:               true,
		features.InPlacePodVerticalScalingExclusiveCPUs: true,
	})
}

// kubeletCPUState is what kubelet's cpu manager restores, in its own types.
type kubeletCPUState struct {
	Default   cpuset.CPUSet
	Entries   cpustate.ContainerCPUAssignments
	Pods      cpustate.PodCPUAssignments
	Baselines cpustate.ContainerCPUBaselines
}

func restoreCPU(t *testing.T, dir, policy string) (cpustate.State, kubeletCPUState) {
	t.Helper()
	st, err := cpustate.NewCheckpointState(logr.Discard(), dir, cpuFile, policy, containermap.NewContainerMap())
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v", err)
	}
	return st, kubeletCPUState{st.GetDefaultCPUSet(), st.GetCPUAssignments(), st.GetPodCPUAssignments(), st.GetCPUBaselines()}
}

// randomCPUSet returns a cpuset of up to n CPUs below 128, in kubelet's
// list syntax.
func randomCPUSet(r *rand.Rand, n int) cpuset.CPUSet {
	ids := make([]int, r.IntN(n+1))
	for i := range ids {
		ids[i] = r.IntN(128)
	}
	return cpuset.New(ids...)
}

// randomCPUState fills a fresh kubelet state through its own setters, each
// of which makes kubelet write the file.
func randomCPUState(r *rand.Rand, st cpustate.State, gates bool) {
	st.SetDefaultCPUSet(randomCPUSet(r, 64))
	for p := range r.IntN(12) {
		pod := fmt.Sprintf("%08x-%04x-4000-8000-%012d", r.Uint32(), p, r.IntN(1000))
		names := []string{"app", "sidecar", "init-<&>", "ünïcode", "a\"quote"}
		for c := range r.IntN(4) {
			cs := randomCPUSet(r, 8)
			st.SetCPUSet(pod, names[c], cs)
			if gates {
				st.SetCPUBaselines(mergeBaseline(st.GetCPUBaselines(), pod, names[c], randomCPUSet(r, 8)))
			}
		}
		if gates && r.IntN(2) == 0 {
			st.SetPodCPUSet(pod, randomCPUSet(r, 16))
		}
	}
}

func mergeBaseline(b cpustate.ContainerCPUBaselines, pod, ctr string, cs cpuset.CPUSet) cpustate.ContainerCPUBaselines {
	if b == nil {
		b = cpustate.ContainerCPUBaselines{}
	}
	if b[pod] == nil {
		b[pod] = map[string]cpustate.ContainerCPUBaseline{}
	}
	b[pod][ctr] = cpustate.ContainerCPUBaseline{Baseline: cs}
	return b
}

// TestCPUManagerOracle: for states kubelet v1.37.2 writes itself (random,
// through its own setters, under both gate settings) and for every
// kubelet-generated file, ckpt decodes the file and encodes it back to the
// same bytes; and kubelet's NewCheckpointState accepts what ckpt wrote and
// restores the same state.
func TestCPUManagerOracle(t *testing.T) {
	for _, gc := range gateConfigs {
		t.Run(gc.name, func(t *testing.T) {
			setResourceGates(t, gc.on)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 40 {
				policy := []string{"static", "none"}[i%2]
				kdir := t.TempDir()
				st, _ := restoreCPU(t, kdir, policy) // not found: kubelet writes an empty state
				randomCPUState(r, st, gc.on)
				kubeletBytes := readFile(t, filepath.Join(kdir, cpuFile))
				checkCPURoundTrip(t, fmt.Sprintf("random state #%d", i), kubeletBytes, policy)
			}
			for _, f := range generatedFiles(t, "cpumanager") {
				b := readFile(t, f)
				s, err := cpumanager.Decode(b)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				checkCPURoundTrip(t, f, b, s.PolicyName)
			}
		})
	}
}

// checkCPURoundTrip requires ckpt to re-encode kubelet's bytes exactly, and
// kubelet to restore from ckpt's bytes the state it restores from its own.
func checkCPURoundTrip(t *testing.T, what string, kubeletBytes []byte, policy string) {
	t.Helper()
	s, err := cpumanager.Decode(kubeletBytes)
	if err != nil {
		t.Errorf("%s: ckpt cannot decode kubelet's file: %v", what, err)
		return
	}
	ours, err := cpumanager.Encode(s)
	if err != nil {
		t.Errorf("%s: encode: %v", what, err)
		return
	}
	if !bytes.Equal(ours, kubeletBytes) {
		t.Errorf("%s: ckpt wrote different bytes: %s", what, firstDiff(ours, kubeletBytes))
		return
	}
	kdir, odir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(kdir, cpuFile), kubeletBytes)
	writeFile(t, filepath.Join(odir, cpuFile), ours)
	_, want := restoreCPU(t, kdir, policy)
	st, got := restoreCPU(t, odir, policy)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: kubelet restored a different state from ckpt's file:\n got %+v\nwant %+v", what, got, want)
	}
	// Make kubelet write what it restored, from its file and from ckpt's:
	// the same bytes (kubelet may migrate, e.g. add baselines under the
	// gate; it must do the same to both), which ckpt re-encodes exactly.
	kst, _ := restoreCPU(t, kdir, policy)
	kst.SetDefaultCPUSet(kst.GetDefaultCPUSet())
	st.SetDefaultCPUSet(st.GetDefaultCPUSet())
	fromKubelet, fromOurs := readFile(t, filepath.Join(kdir, cpuFile)), readFile(t, filepath.Join(odir, cpuFile))
	if !bytes.Equal(fromOurs, fromKubelet) {
		t.Errorf("%s: kubelet re-wrote ckpt's state differently: %s", what, firstDiff(fromOurs, fromKubelet))
	}
	if s, err := cpumanager.Decode(fromKubelet); err != nil {
		t.Errorf("%s: ckpt cannot decode kubelet's re-write: %v", what, err)
	} else if again, err := cpumanager.Encode(s); err != nil || !bytes.Equal(again, fromKubelet) {
		t.Errorf("%s: ckpt re-encodes kubelet's re-write differently (%v): %s", what, err, firstDiff(again, fromKubelet))
	}
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("%d vs %d bytes, first difference at %d:\n  got  ...%s\n  want ...%s",
		len(a), len(b), i, a[from:min(len(a), i+80)], b[from:min(len(b), i+80)])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// generatedFiles lists testdata/kubelet-generated/<kind>/*/*.
func generatedFiles(t *testing.T, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "kubelet-generated", kind, "*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no kubelet-generated files for %s: %v", kind, err)
	}
	return files
}
