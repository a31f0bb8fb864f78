// Package picture draws kubelet's resource checkpoints for people: the CPU
// manager's CPUs as a grid (socket / core / thread when the topology is
// known, else in order) marked with the owner of each CPU, and the memory
// manager's NUMA nodes as bars of system-reserved, reserved and free memory.
//
// A picture is a model (CPUGrid, MemoryBars, with JSON tags for -o json)
// and a Render method that draws it as text, with ANSI colour only when
// asked. The package never prints and never exits.
package picture

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
	"github.com/ckptkit/ckpt/kubelet/machine"
)

// The marks of CPUs that belong to no single assignment.
const (
	MarkDefault  = "."
	MarkConflict = "!"
	MarkLeaked   = "?"
	MarkOffline  = "x"
)

// CPU is one CPU of the grid.
type CPU struct {
	ID int `json:"cpu"`
	// Socket, Core and Thread place it (-1 when the topology is unknown).
	Socket int `json:"socket"`
	Core   int `json:"core"`
	Thread int `json:"thread"`
	// Mark is a legend key: a letter for an assignment, or one of the Mark
	// constants.
	Mark string `json:"mark"`
	// Owners names who holds it ("default set", "<pod>/<container>", ...).
	Owners []string `json:"owners"`
}

// Owner is one line of the legend.
type Owner struct {
	Mark string `json:"mark"`
	Name string `json:"name"`
	CPUs string `json:"cpus"`
}

// CPUGrid is the CPU picture.
type CPUGrid struct {
	// Topology says how CPUs are placed: "socket/core/thread (<source>)"
	// or "in order".
	Topology string  `json:"topology"`
	CPUs     []CPU   `json:"cpus"`
	Legend   []Owner `json:"legend"`
}

// NewCPUGrid builds the grid of a cpu manager checkpoint's content. m may
// be nil; when it knows the topology of every CPU the file names, CPUs are
// placed by socket, core and thread; when it knows the online CPUs, online
// CPUs nobody holds are marked leaked and CPUs that are not online offline.
func NewCPUGrid(c *cpumanager.Content, m *machine.Machine) (*CPUGrid, error) {
	def, err := cpuset.Parse(c.DefaultCPUSet)
	if err != nil {
		return nil, err
	}
	type holder struct {
		name string
		set  cpuset.CPUSet
	}
	var hs []holder
	for _, pod := range slices.Sorted(maps.Keys(c.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(c.Entries[pod])) {
			s, err := cpuset.Parse(c.Entries[pod][ctr])
			if err != nil {
				return nil, err
			}
			hs = append(hs, holder{pod + "/" + ctr, s})
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(c.PodEntries)) {
		s, err := cpuset.Parse(c.PodEntries[pod])
		if err != nil {
			return nil, err
		}
		// A pod-level set covers its containers' sets; only its other CPUs
		// are its own.
		for _, h := range hs {
			if strings.HasPrefix(h.name, pod+"/") {
				s = s.Difference(h.set)
			}
		}
		if !s.IsEmpty() {
			hs = append(hs, holder{pod + " (pod-level)", s})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.ContainerEntries)) {
		s, err := cpuset.Parse(c.ContainerEntries[id])
		if err != nil {
			return nil, err
		}
		hs = append(hs, holder{"container " + id, s})
	}

	var ab cpuset.Builder
	ab.AddSet(def)
	for _, h := range hs {
		ab.AddSet(h.set)
	}
	all := ab.Set()
	var online cpuset.CPUSet
	knowOnline := m.KnowsCPUs()
	if knowOnline {
		on, err := m.Online()
		if err != nil {
			return nil, err
		}
		online = cpuset.New(on...)
		all = all.Union(online)
	} else if l := all.List(); len(l) > 0 {
		// Draw the gaps below the highest CPU named too: CPUs are numbered
		// from 0 without holes on most nodes, so a hole is worth seeing.
		var upTo []int
		for i := 0; i <= l[len(l)-1]; i++ {
			upTo = append(upTo, i)
		}
		all = cpuset.New(upTo...)
	}
	g := &CPUGrid{Topology: "in order", CPUs: []CPU{}, Legend: []Owner{}}
	topo := m.KnowsTopology()
	for _, id := range all.List() {
		if _, ok := m.CPU(id); !ok {
			topo = false
		}
	}
	if topo {
		g.Topology = "socket/core/thread"
		if m.Source != "" {
			g.Topology += " (" + m.Source + ")"
		}
	}

	if !def.IsEmpty() {
		g.Legend = append(g.Legend, Owner{Mark: MarkDefault, Name: "default set (shared pool)", CPUs: def.String()})
	}
	for i, h := range hs {
		g.Legend = append(g.Legend, Owner{Mark: letter(i), Name: h.name, CPUs: h.set.String()})
	}
	// Who holds each CPU, indexed once (a file may hold thousands of
	// assignments).
	ownersOf := map[int][]int{}
	for i, h := range hs {
		for _, id := range h.set.List() {
			ownersOf[id] = append(ownersOf[id], i)
		}
	}
	var conflictB, leakedB, offlineB cpuset.Builder
	for _, id := range all.List() {
		cpu := CPU{ID: id, Socket: -1, Core: -1, Thread: -1, Owners: []string{}}
		if def.Contains(id) {
			cpu.Owners = append(cpu.Owners, "default set")
			cpu.Mark = MarkDefault
		}
		for _, i := range ownersOf[id] {
			cpu.Owners = append(cpu.Owners, hs[i].name)
			cpu.Mark = letter(i)
		}
		switch {
		case len(cpu.Owners) > 1:
			cpu.Mark = MarkConflict
			conflictB.Add(id)
		case knowOnline && !online.Contains(id):
			cpu.Mark = MarkOffline
			offlineB.Add(id)
		case len(cpu.Owners) == 0:
			cpu.Mark = MarkLeaked
			leakedB.Add(id)
		}
		g.CPUs = append(g.CPUs, cpu)
	}
	if topo {
		placeTopology(g, m)
	}
	conflicts, leaked, offline := conflictB.Set(), leakedB.Set(), offlineB.Set()
	if !conflicts.IsEmpty() {
		g.Legend = append(g.Legend, Owner{Mark: MarkConflict, Name: "held twice (double-assigned)", CPUs: conflicts.String()})
	}
	if !leaked.IsEmpty() {
		name := "held by nobody (leaked)"
		if !knowOnline {
			name = "held by nobody (leaked, or offline)"
		}
		g.Legend = append(g.Legend, Owner{Mark: MarkLeaked, Name: name, CPUs: leaked.String()})
	}
	if !offline.IsEmpty() {
		g.Legend = append(g.Legend, Owner{Mark: MarkOffline, Name: "named in the file but not online on the machine", CPUs: offline.String()})
	}
	return g, nil
}

// placeTopology fills socket, core and thread (the CPU's rank among the
// CPUs of its core).
func placeTopology(g *CPUGrid, m *machine.Machine) {
	type coreKey struct{ socket, core int }
	threads := map[coreKey][]int{}
	for _, c := range m.CPUs {
		k := coreKey{c.Socket, c.Core}
		threads[k] = append(threads[k], c.ID)
	}
	for i := range g.CPUs {
		t, _ := m.CPU(g.CPUs[i].ID)
		k := coreKey{t.Socket, t.Core}
		g.CPUs[i].Socket, g.CPUs[i].Core = t.Socket, t.Core
		g.CPUs[i].Thread = slices.Index(threads[k], t.ID)
	}
}

// letter names the i-th assignment: A..Z, then a..z, then #<n>.
func letter(i int) string {
	switch {
	case i < 26:
		return string(rune('A' + i))
	case i < 52:
		return string(rune('a' + i - 26))
	}
	return fmt.Sprintf("#%d", i)
}

// ansi colours for marks: one per assignment, cycling, and fixed ones for
// the special marks.
var palette = []string{"32", "34", "35", "36", "33", "92", "94", "95", "96", "93"}

func colour(mark string, on bool) string {
	if !on {
		return mark
	}
	code := ""
	switch mark {
	case MarkDefault:
		code = "2"
	case MarkConflict:
		code = "1;31"
	case MarkLeaked:
		code = "1;33;41"
	case MarkOffline:
		code = "2;31"
	default:
		i := 0
		if len(mark) == 1 {
			r := rune(mark[0])
			if r >= 'a' {
				i = int(r-'a') + 26
			} else {
				i = int(r - 'A')
			}
		}
		code = palette[i%len(palette)]
	}
	return "\x1b[" + code + "m" + mark + "\x1b[0m"
}

// Render draws the grid. With colour, marks are coloured with ANSI codes.
func (g *CPUGrid) Render(color bool) string {
	var grid, b strings.Builder
	fmt.Fprintf(&b, "CPUs: %d, placed %s\n", len(g.CPUs), g.Topology)
	cell := func(c CPU) string { return fmt.Sprintf("%4d %s", c.ID, padMark(colour(c.Mark, color), c.Mark)) }
	if g.Topology == "in order" || (len(g.CPUs) > 0 && g.CPUs[0].Socket < 0) {
		for i, c := range g.CPUs {
			if i%16 == 0 {
				if i > 0 {
					grid.WriteString("\n")
				}
				grid.WriteString(" ")
			}
			grid.WriteString(cell(c))
		}
		grid.WriteString("\n")
	} else {
		renderTopology(&grid, g, cell)
	}
	for line := range strings.SplitAfterSeq(grid.String(), "\n") {
		if line != "" {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	b.WriteString("Legend:\n")
	for _, o := range g.Legend {
		fmt.Fprintf(&b, "  %s  %s: %s\n", padMark(colour(o.Mark, color), o.Mark), o.Name, o.CPUs)
	}
	return b.String()
}

func padMark(s, mark string) string {
	if n := 2 - len(mark); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

func renderTopology(b *strings.Builder, g *CPUGrid, cell func(CPU) string) {
	sockets := map[int][]CPU{}
	for _, c := range g.CPUs {
		sockets[c.Socket] = append(sockets[c.Socket], c)
	}
	for _, s := range slices.Sorted(maps.Keys(sockets)) {
		cpus := sockets[s]
		var cores []int
		maxThread := 0
		at := map[[2]int]CPU{}
		for _, c := range cpus {
			if !slices.Contains(cores, c.Core) {
				cores = append(cores, c.Core)
			}
			maxThread = max(maxThread, c.Thread)
			at[[2]int{c.Core, c.Thread}] = c
		}
		slices.Sort(cores)
		fmt.Fprintf(b, "socket %d\n", s)
		for start := 0; start < len(cores); start += 12 {
			chunk := cores[start:min(start+12, len(cores))]
			b.WriteString("  core    ")
			for _, core := range chunk {
				fmt.Fprintf(b, "%7d", core)
			}
			b.WriteString("\n")
			for t := 0; t <= maxThread; t++ {
				fmt.Fprintf(b, "  thread %d", t)
				for _, core := range chunk {
					if c, ok := at[[2]int{core, t}]; ok {
						b.WriteString(cell(c))
					} else {
						b.WriteString("       ")
					}
				}
				b.WriteString("\n")
			}
		}
	}
}
