package migrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
)

const testdata = "../../testdata"

func caseFile(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(testdata, "cases", dir+"*", name))
	if err != nil || len(m) != 1 {
		t.Fatalf("case %s/%s: %v %v", dir, name, m, err)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return m[0], b
}

func b02Containers(t *testing.T) map[string]ContainerRef {
	t.Helper()
	_, b := caseFile(t, "B02", "containers.json")
	refs, err := ParseContainers(b)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

func numa(n int64) *int64 { return &n }

func TestPrepare(t *testing.T) {
	plrm := compat.Gates{compat.PodLevelResourceManagers: true}
	tests := []struct {
		reason   string
		dir      string
		file     string
		opts     func(t *testing.T) Options
		wantErr  error
		format   string
		sameAs   [2]string // a case file the result must equal byte for byte
		lostHas  string
		dropHas  string
		contains string // in the new file
	}{
		{reason: "B02: V1 needs a container map", dir: "B02", file: "cpu_manager_state",
			opts: func(*testing.T) Options { return Options{To: compat.V(37)} }, wantErr: ErrNeedContainers},
		{reason: "B02: a container ID missing from the map is refused", dir: "B02", file: "cpu_manager_state",
			opts: func(*testing.T) Options {
				return Options{To: compat.V(37), Containers: map[string]ContainerRef{"other": {PodUID: "p", ContainerName: "c"}}}
			}, wantErr: ErrNeedContainers},
		{reason: "B02: V1 -> V2 for 1.35 gives the file 1.18-1.35 write for that state", dir: "B02", file: "cpu_manager_state",
			opts:   func(t *testing.T) Options { return Options{To: compat.V(35), Containers: b02Containers(t)} },
			format: cpumanager.FormatV2, sameAs: [2]string{"B04", "cpu_manager_state.v2-k118-k135"}},
		{reason: "B02: V1 -> V4 for 1.37 gives the file kubelet 1.37 writes for that state", dir: "B02", file: "cpu_manager_state",
			opts:   func(t *testing.T) Options { return Options{To: compat.V(37), Containers: b02Containers(t)} },
			format: cpumanager.FormatV4, sameAs: [2]string{"B04", "cpu_manager_state.v4-k137"}},
		{reason: "B02: V1 stays V1 for 1.17", dir: "B02", file: "cpu_manager_state",
			opts: func(t *testing.T) Options { return Options{To: compat.V(17)} }, format: cpumanager.FormatV1,
			sameAs: [2]string{"B02", "cpu_manager_state"}},
		{reason: "B04: V4 -> 1.17 needs container IDs for its pod entries", dir: "B04", file: "cpu_manager_state.v4-k137",
			opts: func(*testing.T) Options { return Options{To: compat.V(17)} }, wantErr: ErrNeedContainers},
		{reason: "B04: V4 -> 1.17 with the map writes V1", dir: "B04", file: "cpu_manager_state.v4-k137",
			opts:   func(t *testing.T) Options { return Options{To: compat.V(17), Containers: b02Containers(t)} },
			format: cpumanager.FormatV1, sameAs: [2]string{"B02", "cpu_manager_state"}},
		{reason: "B04: pod-level entries would be lost for 1.35", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl",
			opts: func(*testing.T) Options { return Options{To: compat.V(35)} }, wantErr: ErrLoss},
		{reason: "B04: with --allow-loss, the pod-level CPUs go back to the default set", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl",
			opts:   func(*testing.T) Options { return Options{To: compat.V(35), AllowLoss: true} },
			format: cpumanager.FormatV2, lostHas: "bbbbbbbb-0000-4000-8000-00000000000b (3-4)", contains: `"defaultCpuSet":"0,3-7"`},
		{reason: "B04: 1.36 with PodLevelResourceManagers keeps them in V3", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl",
			opts:   func(*testing.T) Options { return Options{To: compat.V(36), Gates: plrm} },
			format: cpumanager.FormatV3, contains: `"podEntries":{"bbbbbbbb-0000-4000-8000-00000000000b":{"cpuSet":"3-4"}}`},
		{reason: "B04: 1.36 without the gate would lose them", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl",
			opts: func(*testing.T) Options { return Options{To: compat.V(36)} }, wantErr: ErrLoss},
		{reason: "B04: the V2-type-name variant is rewritten with the variant every kubelet accepts", dir: "B04", file: "cpu_manager_state.v2-typename-v2",
			opts:   func(*testing.T) Options { return Options{To: compat.V(35)} },
			format: cpumanager.FormatV2, sameAs: [2]string{"B04", "cpu_manager_state.v2-k118-k135"}},
		{reason: "B01: none -> static loses nothing", dir: "B01", file: "cpu_manager_state",
			opts:   func(*testing.T) Options { return Options{To: compat.V(37), Policy: "static"} },
			format: cpumanager.FormatV4, contains: `"policyName":"static","defaultCpuSet":""`},
		{reason: "B01: none -> static for 1.35 writes V2", dir: "B01", file: "cpu_manager_state",
			opts:   func(*testing.T) Options { return Options{To: compat.V(35), Policy: "static"} },
			format: cpumanager.FormatV2, contains: `"policyName":"static"`},
		{reason: "static -> none with exclusive CPUs is refused, naming them", dir: "B04", file: "cpu_manager_state.v4-k137",
			opts: func(*testing.T) Options { return Options{To: compat.V(37), Policy: "none"} }, wantErr: ErrLoss},
		{reason: "an unknown policy", dir: "B01", file: "cpu_manager_state",
			opts: func(*testing.T) Options { return Options{To: compat.V(37), Policy: "dynamic"} }, wantErr: ErrPolicy},
		{reason: "B18: legacy DRA -> crc32, dropped fields listed", dir: "B18", file: "dra_manager_state",
			opts:   func(*testing.T) Options { return Options{To: compat.V(31)} },
			format: "crc32", dropHas: "resource handle of driver gpu.example.com", contains: `gpu.example.com/gpu=cccccccc-0000-4000-8000-00000000000c-gpu-0`},
		{reason: "B18: no faithful downgrade of DRA to 1.30", dir: "B18", file: "dra_manager_state.current-format",
			opts: func(*testing.T) Options { return Options{To: compat.V(30)} }, wantErr: ErrUnsupported},
		{reason: "B18: DRA with the gate explicitly off is not read", dir: "B18", file: "dra_manager_state",
			opts: func(*testing.T) Options {
				return Options{To: compat.V(37), Gates: compat.Gates{compat.DynamicResourceAllocation: false}}
			}, wantErr: ErrUnsupported},
		{reason: "B17: the 1.29 shape -> crc32", dir: "B17", file: "dra_manager_state.k129",
			opts: func(*testing.T) Options { return Options{To: compat.V(37)} }, format: "crc32"},
		{reason: "B12: pre-1.20 devices need a NUMA choice", dir: "B12", file: "kubelet_internal_checkpoint",
			opts: func(*testing.T) Options { return Options{To: compat.V(37)} }, wantErr: ErrNeedNUMA},
		{reason: "B12: pre-1.20 devices on the chosen node", dir: "B12", file: "kubelet_internal_checkpoint",
			opts:   func(*testing.T) Options { return Options{To: compat.V(37), NUMANode: numa(1)} },
			format: "v2", contains: `"DeviceIDs":{"1":["GPU-00000000-0000-4000-8000-000000000001"]}`},
		{reason: "B12: pre-1.20 stays for 1.19", dir: "B12", file: "kubelet_internal_checkpoint",
			opts:   func(*testing.T) Options { return Options{To: compat.V(19)} },
			format: "pre-1.20", sameAs: [2]string{"B12", "kubelet_internal_checkpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			path, data := caseFile(t, tt.dir, tt.file)
			p, err := Prepare(path, data, tt.opts(t))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.To != tt.format {
				t.Errorf("format %s, want %s", p.To, tt.format)
			}
			res := kubelet.Examine(path, p.Data)
			if res.Verdict != check.Valid || res.Format != tt.format {
				t.Errorf("result examines as %s %s: %v", res.Format, res.Verdict, res.Err)
			}
			if p.Accepted.Outcome != compat.Accept {
				t.Errorf("target cell %+v", p.Accepted)
			}
			if tt.sameAs[0] != "" {
				_, want := caseFile(t, tt.sameAs[0], tt.sameAs[1])
				if string(p.Data) != string(want) {
					t.Errorf("got  %s\nwant %s", p.Data, want)
				}
			}
			if tt.lostHas != "" && !strings.Contains(strings.Join(p.Lost, "\n"), tt.lostHas) {
				t.Errorf("lost %q, want %q", p.Lost, tt.lostHas)
			}
			if tt.dropHas != "" && !strings.Contains(strings.Join(p.Dropped, "\n"), tt.dropHas) {
				t.Errorf("dropped %q, want %q", p.Dropped, tt.dropHas)
			}
			if tt.contains != "" && !strings.Contains(string(p.Data), tt.contains) {
				t.Errorf("new file lacks %s:\n%s", tt.contains, p.Data)
			}
			// Migrating the result again for the same target changes
			// nothing: a second run must not find work to do.
			if again, err := Prepare(path, p.Data, tt.opts(t)); err != nil {
				t.Errorf("migrating the result again: %v", err)
			} else if string(again.Data) != string(p.Data) {
				t.Errorf("migrating the result again changes it:\nfirst  %s\nsecond %s", p.Data, again.Data)
			}
		})
	}
}

func TestLossErrorNamesEntries(t *testing.T) {
	path, data := caseFile(t, "B04", "cpu_manager_state.v4-k137")
	_, err := Prepare(path, data, Options{To: compat.V(37), Policy: "none"})
	var le *LossError
	if !errors.As(err, &le) || len(le.Lost) != 1 || !strings.Contains(le.Lost[0], "aaaaaaaa-0000-4000-8000-00000000000a/app") {
		t.Fatalf("err = %v, want a LossError naming the assignment", err)
	}
	var ce *ContainersError
	path, data = caseFile(t, "B02", "cpu_manager_state")
	_, err = Prepare(path, data, Options{To: compat.V(37)})
	if !errors.As(err, &ce) || !ce.NoMap || len(ce.Missing) != 1 {
		t.Fatalf("err = %v, want a ContainersError listing the container ID", err)
	}
}

func TestPrepareRefusesUnreadable(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   error
	}{
		{"corrupt checksum", `{"policyName":"none","defaultCpuSet":"4-6","checksum":1337}`, ErrSourceUnreadable},
		{"truncated", `{"policyName":"none","defaultCpuSet":"4-6","che`, ErrSourceUnreadable},
		{"not a checkpoint", `hello`, ErrSourceUnreadable},
		{"dockershim has nothing to convert", `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":0}`, nil},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			_, err := Prepare("cpu_manager_state", []byte(tc.data), Options{To: compat.V(37)})
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && err == nil {
				t.Errorf("no error")
			}
		})
	}
}

// TestGeneratedFilesAreUnchangedFor137: every file kubelet 1.37 wrote
// migrates to itself for 1.37.
func TestGeneratedFilesAreUnchangedFor137(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata, "kubelet-generated", "*", "*", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Prepare(f, data, Options{To: compat.V(37)})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !p.Unchanged {
			t.Errorf("%s: not unchanged for 1.37", f)
		}
	}
}

// TestOlderTargets: files migrated to older kubelets are valid in that
// version's format, and that version accepts them.
func TestOlderTargets(t *testing.T) {
	for _, tc := range []struct {
		reason string
		file   string
		to     int
		format string
	}{
		{"memory V3 -> V1 for 1.35", "memorymanager/small/memory_manager_state", 35, "v1"},
		{"memory V3 -> V1 for 1.21", "memorymanager/realistic/memory_manager_state", 21, "v1"},
		{"cpu V4 -> V2 for 1.20", "cpumanager/realistic/cpu_manager_state", 20, "v2"},
		{"cpu V4 -> V2 for 1.36", "cpumanager/small/cpu_manager_state", 36, "v2"},
		{"device v2 -> pre-1.20 for 1.19", "devicemanager/small/kubelet_internal_checkpoint", 19, "pre-1.20"},
		{"allocation for 1.33 drops what 1.33 does not know", "allocation/realistic/allocated_pods_state", 33, "v1.33"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			f := filepath.Join(testdata, "kubelet-generated", tc.file)
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Prepare(f, data, Options{To: compat.V(tc.to), AllowLoss: true})
			if err != nil {
				t.Fatal(err)
			}
			res := kubelet.Examine(f, p.Data)
			if res.Verdict != check.Valid || res.Format != tc.format {
				t.Errorf("%s %s: %v", res.Format, res.Verdict, res.Err)
			}
			c, _ := compat.FromResult(f, p.Data, res).Lookup(compat.V(tc.to), compat.Gates{compat.InPlacePodVerticalScaling: true})
			if c.Outcome != compat.Accept {
				t.Errorf("1.%d: %+v", tc.to, c)
			}
		})
	}
}

func TestParseContainers(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
		ok     bool
	}{
		{"valid", `{"id":{"podUID":"p","containerName":"c"}}`, true},
		{"missing pod", `{"id":{"containerName":"c"}}`, false},
		{"not an object", `[]`, false},
		{"trailing garbage", `{} x`, false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			_, err := ParseContainers([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Errorf("err = %v", err)
			}
			if err != nil && !errors.Is(err, check.ErrInvalid) {
				t.Errorf("err %v does not wrap ErrInvalid", err)
			}
		})
	}
}
