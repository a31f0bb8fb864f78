package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
	"k8s.io/kubernetes/pkg/features"
	allocstate "k8s.io/kubernetes/pkg/kubelet/allocation/state"
	kcm "k8s.io/kubernetes/pkg/kubelet/checkpointmanager"
	"k8s.io/kubernetes/pkg/kubelet/cm/containermap"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	drastate "k8s.io/kubernetes/pkg/kubelet/cm/dra/state"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"

	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/migrate"
	"github.com/ckptkit/ckpt/kubelet/repair"
)

// The oracle for `ckpt migrate` and `ckpt repair`: every file they write for
// kubelet 1.37 is loaded by kubelet v1.37.2's own loaders, which must accept
// it and restore the state the case asks for.

func migCase(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("..", "testdata", "cases", dir+"*", name))
	if err != nil || len(m) != 1 {
		t.Fatalf("case %s/%s: %v %v", dir, name, m, err)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return m[0], b
}

// migWrite puts b under name in a fresh directory, as kubelet would find it.
func migWrite(t *testing.T, name string, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func migPlan(t *testing.T, path string, data []byte, opts migrate.Options) *migrate.Plan {
	t.Helper()
	if opts.To.Minor == 0 {
		opts.To = compat.V(37)
	}
	p, err := migrate.Prepare(path, data, opts)
	if err != nil {
		t.Fatalf("migrate %s: %v", path, err)
	}
	return p
}

func migCPU(t *testing.T, b []byte, policy string) cpustate.State {
	t.Helper()
	st, err := cpustate.NewCheckpointState(logr.Discard(), migWrite(t, cpuFile, b), cpuFile, policy, containermap.NewContainerMap())
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v\n%s", err, b)
	}
	return st
}

func migMemory(t *testing.T, b []byte, policy string) memstate.State {
	t.Helper()
	st, err := memstate.NewCheckpointState(logr.Discard(), migWrite(t, "memory_manager_state", b), "memory_manager_state", policy)
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v\n%s", err, b)
	}
	return st
}

func migDRA(t *testing.T, b []byte) drastate.ClaimInfoStateList {
	t.Helper()
	c, err := drastate.NewCheckpointer(migWrite(t, "dra_manager_state", b), "dra_manager_state")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.GetOrCreate()
	if err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v\n%s", err, b)
	}
	list, err := cp.GetClaimInfoStateList()
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func migDevices(t *testing.T, b []byte) []dmcheckpoint.PodDevicesEntry {
	t.Helper()
	m, err := kcm.NewCheckpointManager(migWrite(t, "kubelet_internal_checkpoint", b))
	if err != nil {
		t.Fatal(err)
	}
	cp := dmcheckpoint.New(make([]dmcheckpoint.PodDevicesEntry, 0), make(map[string][]string))
	if err := m.GetCheckpoint("kubelet_internal_checkpoint", cp); err != nil {
		t.Fatalf("kubelet v1.37.2 refused the file: %v\n%s", err, b)
	}
	entries, _ := cp.GetData()
	return entries
}

// TestMigrateOracleCases: the migrations the cases ask for.
func TestMigrateOracleCases(t *testing.T) {
	t.Run("B02: a 1.17 V1 cpu_manager_state with its container map", func(t *testing.T) {
		path, data := migCase(t, "B02", "cpu_manager_state")
		_, cm := migCase(t, "B02", "containers.json")
		refs, err := migrate.ParseContainers(cm)
		if err != nil {
			t.Fatal(err)
		}
		p := migPlan(t, path, data, migrate.Options{Containers: refs})
		st := migCPU(t, p.Data, "static")
		if got := st.GetCPUSetOrDefault("aaaaaaaa-0000-4000-8000-00000000000a", "app").String(); got != "1-2" {
			t.Errorf("pod aaaaaaaa.../app restored with %q, want 1-2", got)
		}
		if got := st.GetDefaultCPUSet().String(); got != "0,3-7" {
			t.Errorf("default set %q, want 0,3-7", got)
		}
	})
	t.Run("B01: policy none -> static", func(t *testing.T) {
		path, data := migCase(t, "B01", "cpu_manager_state")
		p := migPlan(t, path, data, migrate.Options{Policy: "static"})
		st := migCPU(t, p.Data, "static") // a policy mismatch would be an error
		if n := len(st.GetCPUAssignments()); n != 0 {
			t.Errorf("%d assignments, want none", n)
		}
	})
	t.Run("B04: V2 under the V2 type name, for 1.37 with PodLevelResourceManagers", func(t *testing.T) {
		path, data := migCase(t, "B04", "cpu_manager_state.v2-typename-v2")
		featuregatetesting.SetFeatureGatesDuringTest(t, utilfeature.DefaultFeatureGate, featuregatetesting.FeatureOverrides{
			features.PodLevelResources: true, features.PodLevelResourceManagers: true,
		})
		p := migPlan(t, path, data, migrate.Options{Gates: compat.Gates{compat.PodLevelResourceManagers: true}})
		st := migCPU(t, p.Data, "static")
		if got := st.GetCPUSetOrDefault("aaaaaaaa-0000-4000-8000-00000000000a", "app").String(); got != "1-2" {
			t.Errorf("restored %q, want 1-2", got)
		}
	})
	t.Run("B18: a 1.30 dra_manager_state", func(t *testing.T) {
		path, data := migCase(t, "B18", "dra_manager_state")
		p := migPlan(t, path, data, migrate.Options{})
		list := migDRA(t, p.Data)
		if len(list) != 1 {
			t.Fatalf("%d claims, want 1", len(list))
		}
		c := list[0]
		if c.ClaimUID != "cccccccc-0000-4000-8000-00000000000c" || c.ClaimName != "gpu-claim" || c.Namespace != "team-a" ||
			!c.PodUIDs.Has("aaaaaaaa-0000-4000-8000-00000000000a") {
			t.Errorf("claim restored as %+v", c)
		}
		devs := c.DriverState["gpu.example.com"].Devices
		if len(devs) != 1 || strings.Join(devs[0].CDIDeviceIDs, ",") != "gpu.example.com/gpu=cccccccc-0000-4000-8000-00000000000c-gpu-0" {
			t.Errorf("CDI devices restored as %+v", devs)
		}
	})
	t.Run("B12: a pre-1.20 device checkpoint on NUMA node 0", func(t *testing.T) {
		path, data := migCase(t, "B12", "kubelet_internal_checkpoint")
		zero := int64(0)
		p := migPlan(t, path, data, migrate.Options{NUMANode: &zero})
		entries := migDevices(t, p.Data)
		if len(entries) != 1 || len(entries[0].DeviceIDs[0]) != 1 || entries[0].DeviceIDs[0][0] != "GPU-00000000-0000-4000-8000-000000000001" {
			t.Errorf("entries restored as %+v", entries)
		}
	})
}

// TestMigrateOracleVectors: older files of every kind migrated to 1.37 are
// accepted by kubelet v1.37.2.
func TestMigrateOracleVectors(t *testing.T) {
	for _, tc := range []struct {
		reason string
		file   string
		load   func(t *testing.T, b []byte)
	}{
		{"cpu V2 with entries", "cpumanager/v2-valid-entries.json", func(t *testing.T, b []byte) { migCPU(t, b, "none") }},
		{"cpu V3 with pod-level entries", "cpumanager/v3-legacy-podentries-static.json", func(t *testing.T, b []byte) {
			featuregatetesting.SetFeatureGatesDuringTest(t, utilfeature.DefaultFeatureGate, featuregatetesting.FeatureOverrides{
				features.PodLevelResources: true, features.PodLevelResourceManagers: true,
			})
			st := migCPU(t, b, "static")
			if got := st.GetPodCPUAssignments()["pod2"].CPUSet.String(); got != "7-9" {
				t.Errorf("pod-level set %q, want 7-9", got)
			}
		}},
		{"memory V1", "memorymanager/v1-valid.json", func(t *testing.T, b []byte) { migMemory(t, b, "static") }},
		{"memory V2 with pod-level entries", "memorymanager/v2-valid-podentries-1.36.json", func(t *testing.T, b []byte) {
			featuregatetesting.SetFeatureGatesDuringTest(t, utilfeature.DefaultFeatureGate, featuregatetesting.FeatureOverrides{
				features.PodLevelResources: true, features.PodLevelResourceManagers: true,
			})
			if len(migMemory(t, b, "static").GetPodMemoryAssignments()) == 0 {
				t.Error("pod-level entries lost")
			}
		}},
		{"DRA legacy without resource handles", "dra/v1fnv-without-resourcehandles.json", func(t *testing.T, b []byte) { migDRA(t, b) }},
		{"DRA legacy with multiple devices", "dra/v1fnv-single-claim-multiple-devices.json", func(t *testing.T, b []byte) { migDRA(t, b) }},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "kubelet-vectors", tc.file)
			data := readFile(t, path)
			p := migPlan(t, path, data, migrate.Options{Gates: compat.Gates{compat.PodLevelResourceManagers: true}})
			tc.load(t, p.Data)
		})
	}
}

// TestRepairOracle: files edited by hand and repaired are accepted by
// kubelet v1.37.2 with the edit in place.
func TestRepairOracle(t *testing.T) {
	edit := func(t *testing.T, b []byte, old, new string) []byte {
		t.Helper()
		s := string(b)
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %s", old, s)
		}
		return []byte(strings.Replace(s, old, new, -1))
	}
	repaired := func(t *testing.T, name string, b []byte) []byte {
		t.Helper()
		p, err := repair.Prepare(name, b, repair.Options{BackupDir: t.TempDir()})
		if err != nil || p.Unchanged {
			t.Fatalf("repair: %v (unchanged %v)", err, p != nil && p.Unchanged)
		}
		return p.Data
	}
	t.Run("cpu V4, both copies edited", func(t *testing.T) {
		_, data := migCase(t, "B04", "cpu_manager_state.v4-k137")
		b := repaired(t, cpuFile, edit(t, data, "1-2", "1-3"))
		st := migCPU(t, b, "static")
		if got := st.GetCPUSetOrDefault("aaaaaaaa-0000-4000-8000-00000000000a", "app").String(); got != "1-3" {
			t.Errorf("restored %q, want the edited 1-3", got)
		}
	})
	t.Run("cpu V4, only the embedded block edited", func(t *testing.T) {
		_, data := migCase(t, "B04", "cpu_manager_state.v4-k137")
		b := repaired(t, cpuFile, edit(t, data, `"defaultCpuSet":"0,3-7","entries"`, `"defaultCpuSet":"0,3-6","entries"`))
		if got := migCPU(t, b, "static").GetDefaultCPUSet().String(); got != "0,3-6" {
			t.Errorf("default set %q, want the edited 0,3-6", got)
		}
	})
	t.Run("memory V3 data edited", func(t *testing.T) {
		data := readFile(t, filepath.Join("..", "testdata", "kubelet-generated", "memorymanager", "small", "memory_manager_state"))
		b := repaired(t, "memory_manager_state", edit(t, data, `\"numberOfAssignments\":`, `\"numberOfAssignments\":1`))
		migMemory(t, b, "Static")
	})
	t.Run("DRA crc32 data edited", func(t *testing.T) {
		_, data := migCase(t, "B18", "dra_manager_state.current-format")
		b := repaired(t, "dra_manager_state", edit(t, data, "gpu-claim", "gpu-claim-2"))
		if list := migDRA(t, b); len(list) != 1 || list[0].ClaimName != "gpu-claim-2" {
			t.Errorf("restored %+v", list)
		}
	})
	t.Run("device v2 edited", func(t *testing.T) {
		data := readFile(t, filepath.Join("..", "testdata", "kubelet-generated", "devicemanager", "small", "kubelet_internal_checkpoint"))
		b := repaired(t, "kubelet_internal_checkpoint", edit(t, data, `"ContainerName":"`, `"ContainerName":"x`))
		if len(migDevices(t, b)) == 0 {
			t.Error("no entries restored")
		}
	})
	t.Run("allocation data edited", func(t *testing.T) {
		data := readFile(t, filepath.Join("..", "testdata", "kubelet-generated", "allocation", "small", "allocated_pods_state"))
		b := repaired(t, "allocated_pods_state", edit(t, data, `\"cpu\":\"`, `\"cpu\":\"1`))
		st, err := allocstate.NewStateCheckpoint(logr.Discard(), migWrite(t, "allocated_pods_state", b), "allocated_pods_state")
		if err != nil {
			t.Fatalf("kubelet v1.37.2 refused the file: %v", err)
		}
		if len(st.GetPodResourceInfoMap()) == 0 {
			t.Error("no entries restored")
		}
	})
}
