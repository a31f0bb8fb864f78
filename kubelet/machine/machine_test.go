package machine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const cases = "../../testdata/cases"

// writeTree creates files under root from a path -> content map.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeSys is a two-socket, four-core, two-thread machine with two NUMA
// nodes and 1Gi huge pages on node 1.
func fakeSys(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"devices/system/cpu/online":                                            "0-7\n",
		"devices/system/node/node0/cpulist":                                    "0-1,4-5\n",
		"devices/system/node/node1/cpulist":                                    "2-3,6-7\n",
		"devices/system/node/node0/meminfo":                                    "Node 0 MemTotal:       65536 kB\nNode 0 MemFree: 1 kB\n",
		"devices/system/node/node1/meminfo":                                    "Node 1 MemTotal:       131072 kB\n",
		"devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages": "2\n",
		"devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages":    "0\n",
		"devices/system/node/possible":                                         "0-1\n",
	}
	// cpu -> socket, core
	topo := [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}}
	for cpu, sc := range topo {
		dir := filepath.Join("devices/system/cpu", "cpu"+string(rune('0'+cpu)), "topology")
		files[filepath.Join(dir, "physical_package_id")] = string(rune('0'+sc[0])) + "\n"
		files[filepath.Join(dir, "core_id")] = string(rune('0'+sc[1])) + "\n"
	}
	writeTree(t, root, files)
	return root
}

func TestReadSys(t *testing.T) {
	m, err := ReadSys(fakeSys(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.OnlineCPUs != "0-7" || !m.KnowsTopology() || !m.KnowsMemory() {
		t.Fatalf("machine %+v", m)
	}
	if c, ok := m.CPU(6); !ok || c.Socket != 1 || c.Core != 0 || c.Node != 1 {
		t.Errorf("CPU 6 = %+v, %v; want socket 1 core 0 node 1", c, ok)
	}
	want := map[int]NUMANode{
		0: {MemoryTotal: 64 << 20, CPUs: "0-1,4-5"},
		1: {MemoryTotal: 128 << 20, CPUs: "2-3,6-7", HugePages: map[string]uint64{"hugepages-1Gi": 2 << 30, "hugepages-2Mi": 0}},
	}
	if !reflect.DeepEqual(m.NUMA, want) {
		t.Errorf("NUMA = %+v, want %+v", m.NUMA, want)
	}
}

func TestReadSysPartial(t *testing.T) {
	for _, tc := range []struct {
		reason   string
		files    map[string]string
		wantErr  bool
		wantTopo bool
	}{
		{"no online file: nothing is known", map[string]string{"devices/system/cpu/cpu0/topology/core_id": "0"}, true, false},
		{"online CPUs without topology or NUMA", map[string]string{"devices/system/cpu/online": "0-3"}, false, false},
		{"an unparsable online list", map[string]string{"devices/system/cpu/online": "zero"}, true, false},
	} {
		root := t.TempDir()
		writeTree(t, root, tc.files)
		m, err := ReadSys(root)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.reason, err)
			continue
		}
		if err == nil && (m.KnowsTopology() != tc.wantTopo || m.KnowsMemory()) {
			t.Errorf("%s: %+v", tc.reason, m)
		}
	}
}

func TestReadFileCases(t *testing.T) {
	m, err := ReadFile(filepath.Join(cases, "B05-cpu-torn-multiwrite-leak-overlap", "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	online, _ := m.Online()
	reserved, _ := m.Reserved()
	if !reflect.DeepEqual(online, []int{0, 1, 2, 3, 4, 5, 6, 7}) || !reflect.DeepEqual(reserved, []int{0}) || m.KnowsMemory() {
		t.Errorf("B05 machine: online %v reserved %v %+v", online, reserved, m)
	}
	m, err = ReadFile(filepath.Join(cases, "B08-memory-numa-total-drift-after-reboot", "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.KnowsCPUs() || !reflect.DeepEqual(m.Nodes(), []int{0, 1}) || m.NUMA[0].MemoryTotal != 68677533696 ||
		m.NUMA[1].MemoryTotal != 68761419776 || m.SystemReservedPerNode != 1<<30 {
		t.Errorf("B08 machine: %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		lscpu  bool
	}{
		{"not JSON", `{"onlineCPUs":`, false},
		{"trailing data", `{"onlineCPUs":"0-3"} {}`, false},
		{"bad CPU list", `{"onlineCPUs":"3-1"}`, false},
		{"bad reserved list", `{"onlineCPUs":"0-3","reservedSystemCPUs":"x"}`, false},
		{"another JSON document (a checkpoint given by mistake)", `{"policyName":"Static","machineState":{}}`, false},
		{"an empty object", `{}`, false},
		{"CPU listed twice", `{"cpus":[{"cpu":1,"socket":0,"core":0,"node":0},{"cpu":1,"socket":0,"core":1,"node":0}]}`, false},
		{"lscpu without CPU lines", "# CPU,Core,Socket,Node\n", true},
		{"lscpu with a word", "0,a,0,0\n", true},
		{"lscpu with too few fields", "0,0\n", true},
	} {
		var err error
		if tc.lscpu {
			_, err = ParseLscpu([]byte(tc.data))
		} else {
			_, err = ParseJSON([]byte(tc.data))
		}
		if !errors.Is(err, ErrMachine) {
			t.Errorf("%s: err %v, want ErrMachine", tc.reason, err)
		}
	}
}

func TestParseLscpu(t *testing.T) {
	m, err := ParseLscpu([]byte("# The following is the parsable format\n# CPU,Core,Socket,Node\n0,0,0,0\n1,0,0,\n2,1,1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.OnlineCPUs != "0-2" {
		t.Errorf("online %q, want 0-2 (from the CPU lines)", m.OnlineCPUs)
	}
	if c, _ := m.CPU(1); c.Node != -1 {
		t.Errorf("an empty NODE column means unknown, got %d", c.Node)
	}
}

func TestFromCPUListAndMerge(t *testing.T) {
	if _, err := FromCPUList(""); !errors.Is(err, ErrMachine) {
		t.Errorf("empty list: %v", err)
	}
	c, err := FromCPUList("0-3,8")
	if err != nil || c.OnlineCPUs != "0-3,8" {
		t.Fatalf("%+v %v", c, err)
	}
	j, _ := ParseJSON([]byte(`{"onlineCPUs":"0-15","reservedSystemCPUs":"0","systemReservedPerNode":5,"numa":{"0":{"memoryTotal":10}}}`))
	m := Merge(c, j)
	if m.OnlineCPUs != "0-3,8" || m.ReservedSystemCPUs != "0" || m.SystemReservedPerNode != 5 || !m.KnowsMemory() {
		t.Errorf("merge: %+v", m)
	}
	if Merge(nil, j) != j || Merge(j, nil) != j {
		t.Error("merge with nil must return the other")
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		reason string
		b      uint64
		want   string
	}{
		{"exact GiB", 64 << 30, "64 GiB"},
		{"exact MiB", 40 << 20, "40 MiB"},
		{"inexact shows two decimals of the largest unit", 68677533696, "63.96 GiB"},
		{"below a KiB", 512, "512 B"},
		{"zero", 0, "0 B"},
	} {
		if got := FormatBytes(tc.b); got != tc.want {
			t.Errorf("%s: FormatBytes(%d) = %q, want %q", tc.reason, tc.b, got, tc.want)
		}
	}
	if got := FormatDelta(64<<30, 68677533696); got != "-40 MiB" {
		t.Errorf("delta %q", got)
	}
	if got := FormatDelta(1, 1); got != "0" {
		t.Errorf("delta %q", got)
	}
	if got := HugePageResource(2 << 20); got != "hugepages-2Mi" {
		t.Errorf("huge page name %q", got)
	}
}
