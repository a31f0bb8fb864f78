package picture

import (
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

func content(def string, entries map[string]map[string]string) *cpumanager.Content {
	return &cpumanager.Content{State: cpumanager.State{PolicyName: "static", DefaultCPUSet: def, Entries: entries}}
}

func marks(g *CPUGrid) string {
	var b strings.Builder
	for _, c := range g.CPUs {
		b.WriteString(c.Mark)
	}
	return b.String()
}

func TestCPUGridMarks(t *testing.T) {
	online := &machine.Machine{OnlineCPUs: "0-7"}
	for _, tc := range []struct {
		reason  string
		c       *cpumanager.Content
		m       *machine.Machine
		want    string
		legends int
	}{
		{"B07: default set and two containers", content("0,5-7", map[string]map[string]string{"a": {"app": "1-2"}, "b": {"db": "3-4"}}),
			nil, ".AABB...", 3},
		{"B05 leak, machine known: 1-2 held by nobody", content("0,3-7", nil), online, ".??.....", 2},
		{"B05 leak, machine unknown: the gap is still drawn", content("0,3-7", nil), nil, ".??.....", 2},
		{"B05 overlap: 1-2 held twice", content("0-7", map[string]map[string]string{"a": {"app": "1-2"}}), online, ".!!.....", 3},
		{"a CPU the machine does not have", content("0-8", nil), online, "........x", 2},
	} {
		g, err := NewCPUGrid(tc.c, tc.m)
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if got := marks(g); got != tc.want || len(g.Legend) != tc.legends {
			t.Errorf("%s: marks %q legend %+v, want %q and %d lines", tc.reason, got, g.Legend, tc.want, tc.legends)
		}
		plain := g.Render(false)
		if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "placed in order") {
			t.Errorf("%s: plain output:\n%s", tc.reason, plain)
		}
		if !strings.Contains(g.Render(true), "\x1b[") {
			t.Errorf("%s: no colour when asked", tc.reason)
		}
	}
	if _, err := NewCPUGrid(content("0-", nil), nil); err == nil {
		t.Error("an unparsable default set drew a picture")
	}
}

func TestCPUGridTopology(t *testing.T) {
	m, err := machine.ParseLscpu([]byte("0,0,0,0\n1,1,0,0\n2,0,1,1\n3,1,1,1\n4,0,0,0\n5,1,0,0\n6,0,1,1\n7,1,1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewCPUGrid(content("0,5-7", map[string]map[string]string{"a": {"app": "1-2"}, "b": {"db": "3-4"}}), m)
	if err != nil {
		t.Fatal(err)
	}
	out := g.Render(false)
	want := `CPUs: 8, placed socket/core/thread
socket 0
  core          0      1
  thread 0   0 .    1 A
  thread 1   4 B    5 .
socket 1
  core          0      1
  thread 0   2 A    3 B
  thread 1   6 .    7 .
`
	if !strings.HasPrefix(out, want) {
		t.Errorf("got\n%s\nwant prefix\n%s", out, want)
	}
	// A topology that misses a CPU of the file is not used.
	g, _ = NewCPUGrid(content("0-9", nil), m)
	if g.Topology != "in order" {
		t.Errorf("topology %q", g.Topology)
	}
}

func TestMemoryBars(t *testing.T) {
	const gi = 1 << 30
	c := &memorymanager.Content{State: memorymanager.State{MachineState: memorymanager.NUMANodeMap{
		0: {NumberOfAssignments: 1, Cells: []int{0}, MemoryMap: map[memorymanager.ResourceName]*memorymanager.MemoryTable{
			"memory":        {TotalMemSize: 10 * gi, SystemReserved: 1 * gi, Allocatable: 9 * gi, Reserved: 4 * gi, Free: 5 * gi},
			"hugepages-1Gi": {},
		}},
	}}}
	mb := NewMemoryBars(c)
	out := mb.Render(false)
	want := "NUMA node 0 (cells 0, 1 assignments)\n" +
		"  memory        [====################********************]  10 GiB total: 1 GiB system reserved, 4 GiB reserved, 5 GiB free\n" +
		"  hugepages-1Gi (none)\n"
	want = strings.ReplaceAll(want, "*", BarFree)
	if !strings.HasPrefix(out, want) {
		t.Errorf("got\n%s\nwant prefix\n%s", out, want)
	}
	if !strings.Contains(mb.Render(true), "\x1b[") {
		t.Error("no colour when asked")
	}
}
