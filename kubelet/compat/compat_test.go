package compat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testdata = "../../testdata"

func readFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func caseFile(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(testdata, "cases", dir+"*", name))
	if err != nil || len(matches) != 1 {
		t.Fatalf("case %s/%s: %v %v", dir, name, matches, err)
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return matches[0], b
}

// TestCases checks the matrix cells the bug-report cases ask about
// (EXPECT.md and ORACLE.md of B02, B04, B12, B17, B18).
func TestCases(t *testing.T) {
	on := Gates{PodLevelResourceManagers: true}
	draOn := Gates{DynamicResourceAllocation: true}
	tests := []struct {
		reason   string
		dir      string
		file     string
		kubelet  int
		gates    Gates
		want     Outcome
		lostHas  string
		fatal    bool
		readsHas string
	}{
		{reason: "B02: 1.17 reads its own V1 file", dir: "B02", file: "cpu_manager_state", kubelet: 17, want: Accept, readsHas: "V1"},
		{reason: "B02: 1.18-1.36 read V1 and migrate it", dir: "B02", file: "cpu_manager_state", kubelet: 30, want: Accept, readsHas: "V1"},
		{reason: "B02: 1.37 no longer reads V1 (ORACLE: json type error)", dir: "B02", file: "cpu_manager_state", kubelet: 37, want: Reject, fatal: true},
		{reason: "B04: V2 as 1.18-1.35 wrote it is read by 1.35", dir: "B04", file: "cpu_manager_state.v2-k118-k135", kubelet: 35, want: Accept},
		{reason: "B04: V2 under the V2 type name is corrupted for 1.35 (ORACLE)", dir: "B04", file: "cpu_manager_state.v2-typename-v2", kubelet: 35, want: Reject, fatal: true},
		{reason: "B04: V2 under the V2 type name is read by 1.37 with default gates (ORACLE)", dir: "B04", file: "cpu_manager_state.v2-typename-v2", kubelet: 37, want: Accept},
		{reason: "B04: V2 under the V2 type name is rejected by 1.37 with PodLevelResourceManagers (ORACLE)", dir: "B04", file: "cpu_manager_state.v2-typename-v2", kubelet: 37, gates: on, want: Reject, fatal: true},
		{reason: "B04: V4 is read by 1.35 through the embedded V2 block (ORACLE)", dir: "B04", file: "cpu_manager_state.v4-k137", kubelet: 35, want: Accept, readsHas: "embedded V2"},
		{reason: "B04: V4 is rejected by 1.17 (ORACLE)", dir: "B04", file: "cpu_manager_state.v4-k137", kubelet: 17, want: Reject, fatal: true},
		{reason: "B04: V4 with pod-level entries loses them in 1.35, whose static policy then finds CPUs 3-4 leaked and stops (fatal)", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl", kubelet: 35, want: AcceptWithLoss, fatal: true, lostHas: "bbbbbbbb-0000-4000-8000-00000000000b (3-4)"},
		{reason: "B04: V4 with pod-level entries loses them in 1.36 even with the gate (fatal as in 1.35)", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl", kubelet: 36, gates: on, want: AcceptWithLoss, fatal: true, lostHas: "pod-level"},
		{reason: "B04: V4 with pod-level entries is read whole by 1.37 (ORACLE podAssignments=1)", dir: "B04", file: "cpu_manager_state.v4-k137-podlvl", kubelet: 37, gates: on, want: Accept, readsHas: "V4 data"},
		{reason: "B12: the pre-1.20 device file is read by 1.19", dir: "B12", file: "kubelet_internal_checkpoint", kubelet: 19, want: Accept},
		{reason: "B12: the pre-1.20 device file is lost by 1.37, which carries on", dir: "B12", file: "kubelet_internal_checkpoint", kubelet: 37, want: Reject, fatal: false},
		{reason: "B17: the 1.29 shape is read by 1.29 (ORACLE)", dir: "B17", file: "dra_manager_state.k129", kubelet: 29, gates: draOn, want: Accept},
		{reason: "B17: the 1.29 shape is rejected by 1.30 (ORACLE)", dir: "B17", file: "dra_manager_state.k129", kubelet: 30, gates: draOn, want: Reject, fatal: true},
		{reason: "B17: the 1.30 shape is read by 1.30 (ORACLE)", dir: "B17", file: "dra_manager_state.k130", kubelet: 30, gates: draOn, want: Accept},
		{reason: "B17: the 1.30 shape is rejected by 1.37 (ORACLE)", dir: "B17", file: "dra_manager_state.k130", kubelet: 37, want: Reject, fatal: true},
		{reason: "B18: legacy DRA is read by 1.30", dir: "B18", file: "dra_manager_state", kubelet: 30, gates: draOn, want: Accept},
		{reason: "B18: legacy DRA is rejected by 1.31", dir: "B18", file: "dra_manager_state", kubelet: 31, gates: draOn, want: Reject, fatal: true},
		{reason: "B18: legacy DRA is not read by 1.30 with the gate off", dir: "B18", file: "dra_manager_state", kubelet: 30, want: NotRead},
		{reason: "B18: current DRA is rejected by 1.30 (ORACLE)", dir: "B18", file: "dra_manager_state.current-format", kubelet: 30, gates: draOn, want: Reject, fatal: true},
		{reason: "B18: current DRA is read by 1.31", dir: "B18", file: "dra_manager_state.current-format", kubelet: 31, gates: draOn, want: Accept},
		{reason: "B18: current DRA is read by 1.37 with default gates (ORACLE)", dir: "B18", file: "dra_manager_state.current-format", kubelet: 37, want: Accept},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			path, data := caseFile(t, tt.dir, tt.file)
			r := Check(path, data)
			c, ok := r.Lookup(V(tt.kubelet), tt.gates)
			if !ok {
				t.Fatalf("no cell for 1.%d", tt.kubelet)
			}
			if c.Outcome != tt.want || c.Fatal != tt.fatal {
				t.Errorf("1.%d: %s (fatal %v), want %s (fatal %v): %+v", tt.kubelet, c.Outcome, c.Fatal, tt.want, tt.fatal, c)
			}
			if tt.lostHas != "" && !strings.Contains(strings.Join(c.Lost, "; "), tt.lostHas) {
				t.Errorf("lost = %q, want it to mention %q", c.Lost, tt.lostHas)
			}
			if tt.readsHas != "" && !strings.Contains(c.ReadsAs, tt.readsHas) {
				t.Errorf("readsAs = %q, want %q", c.ReadsAs, tt.readsHas)
			}
			if c.Outcome == Reject && c.Reason == "" {
				t.Errorf("a rejection without a reason: %+v", c)
			}
		})
	}
}

type vector struct {
	File     string                     `json:"file"`
	Consumer string                     `json:"consumer"`
	Expect   string                     `json:"expect"`
	Actual   map[string]json.RawMessage `json:"k8s_v1.37.2_actual"`
}

// TestManifest137 compares the 1.37 cells with what real kubelet v1.37.2
// did with each vector (manifest.json, k8s_v1.37.2_actual): restore with
// default gates (PodLevelResourceManagers off) and with the gate on.
func TestManifest137(t *testing.T) {
	var vs []vector
	if err := json.Unmarshal(readFile(t, "kubelet-vectors", "manifest.json"), &vs); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, v := range vs {
		for key, gates := range map[string]Gates{
			"restore_default_gates":           {},
			"restore_PLRM+exclusiveCPU_gates": {PodLevelResourceManagers: true},
			"restore":                         {},
		} {
			raw, ok := v.Actual[key]
			if !ok {
				continue
			}
			var actual string
			if json.Unmarshal(raw, &actual) != nil || actual == "n/a" {
				continue
			}
			name := v.File
			if v.Consumer == "allocation" {
				name = "allocated_pods_state" // how kubelet loaded it
			}
			r := Check(name, readFile(t, "kubelet-vectors", v.File))
			c, found := r.Lookup(V(37), gates)
			if !found {
				t.Errorf("%s: no 1.37 cell", v.File)
				continue
			}
			accepted := c.Outcome == Accept || c.Outcome == AcceptWithLoss
			if want := actual == "OK"; accepted != want {
				t.Errorf("%s (%s): compat says %s (%s), kubelet v1.37.2 said %q", v.File, key, c.Outcome, c.Reason, actual)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d vector results", checked)
	}
}

// TestEveryKindHasAFullMatrix checks the shape of the report for every
// kubelet-generated file: every version, two cells where the gate exists,
// and every 1.37 default cell accepts.
func TestEveryKindHasAFullMatrix(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata, "kubelet-generated", "*", "*", "*"))
	if len(files) == 0 {
		t.Fatal("no kubelet-generated files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := Check(f, data)
		seen := map[int]int{}
		for _, c := range r.Cells {
			seen[c.Kubelet.Minor]++
		}
		for m := OldestMinor; m <= NewestMinor; m++ {
			want := 1
			if _, exists := GateDefault(r.Gate, V(m)); r.Gate != "" && exists {
				want = 2
			}
			if seen[m] != want {
				t.Errorf("%s: 1.%d has %d cells, want %d", f, m, seen[m], want)
			}
		}
		if c, _ := r.Lookup(V(37), nil); c.Outcome != Accept && c.Outcome != AcceptWithLoss {
			t.Errorf("%s: written by kubelet 1.37 but 1.37 cell is %+v", f, c)
		}
		if len(r.Table().Rows) == 0 || r.Summary() == "" {
			t.Errorf("%s: empty table or summary", f)
		}
	}
}

func TestSummaryB04(t *testing.T) {
	path, data := caseFile(t, "B04", "cpu_manager_state.v4-k137-podlvl")
	r := Check(path, data)
	if got, want := r.Summary(), "accepted by kubelet 1.37; accepted with loss by 1.18-1.36; rejected by 1.17"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	path, data = caseFile(t, "B04", "cpu_manager_state.v2-typename-v2")
	notes := Check(path, data).GateNotes()
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "PodLevelResourceManagers=on: 1.36-1.37 reject") {
		t.Errorf("gate notes = %q", notes)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		reason string
		in     string
		want   int
		err    bool
	}{
		{reason: "plain", in: "1.35", want: 35},
		{reason: "v prefix and patch", in: "v1.31.2", want: 31},
		{reason: "oldest", in: "1.17", want: 17},
		{reason: "too old", in: "1.16", err: true},
		{reason: "too new", in: "1.38", err: true},
		{reason: "not a version", in: "latest", err: true},
		{reason: "major 2", in: "2.0", err: true},
		{reason: "bad patch", in: "1.30.x", err: true},
		{reason: "a leading zero is a typo, not 1.37 (review item 14)", in: "1.037", err: true},
		{reason: "a sign is no release number", in: "1.+37", err: true},
		{reason: "a patch with a leading zero", in: "1.37.02", err: true},
		{reason: "the patch is ignored", in: "1.37.2", want: 37},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			v, err := ParseVersion(tt.in)
			if tt.err {
				if !errors.Is(err, ErrVersion) {
					t.Errorf("err = %v, want ErrVersion", err)
				}
				return
			}
			if err != nil || v.Minor != tt.want {
				t.Errorf("got %v, %v; want 1.%d", v, err, tt.want)
			}
		})
	}
}

func TestGates(t *testing.T) {
	tests := []struct {
		reason  string
		in      string
		gate    Gate
		kubelet int
		want    bool
		err     bool
	}{
		{reason: "default off in 1.36", in: "", gate: PodLevelResourceManagers, kubelet: 36, want: false},
		{reason: "set on", in: "PodLevelResourceManagers=true", gate: PodLevelResourceManagers, kubelet: 36, want: true},
		{reason: "a gate that does not exist yet is off", in: "PodLevelResourceManagers=true", gate: PodLevelResourceManagers, kubelet: 35, want: false},
		{reason: "IPPVS on by default from 1.33", in: "", gate: InPlacePodVerticalScaling, kubelet: 33, want: true},
		{reason: "DRA off by default in 1.33", in: "", gate: DynamicResourceAllocation, kubelet: 33, want: false},
		{reason: "DRA on by default in 1.34", in: " DynamicResourceAllocation = true ", gate: DynamicResourceAllocation, kubelet: 34, want: true},
		{reason: "unknown gate", in: "Foo=true", err: true},
		{reason: "no value", in: "DynamicResourceAllocation", err: true},
		{reason: "bad bool", in: "DynamicResourceAllocation=maybe", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			g, err := ParseGates(tt.in)
			if tt.err {
				if !errors.Is(err, ErrGate) {
					t.Errorf("err = %v, want ErrGate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := g.On(tt.gate, V(tt.kubelet)); got != tt.want {
				t.Errorf("On = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNeverPanics(t *testing.T) {
	for _, in := range []string{"", "{", "null", `{"defaultCpuSet":5}`, `{"Data":"x","Checksum":"y"}`, `{"version":"v1","entries":{}}`,
		`{"machineState":null,"checksum":0}`, `{"policyName":"static","defaultCpuSet":"","data":"{","dataChecksum":1}`} {
		r := Check("x", []byte(in))
		_ = r.Summary()
		_ = r.Table()
		_ = r.GateNotes()
	}
}
