package picture

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// BarWidth is the width of a full memory bar, in characters.
const BarWidth = 40

// The characters of a memory bar.
const (
	BarSystem   = "="
	BarReserved = "#"
	BarFree     = "."
)

// Bar is one resource of one NUMA node.
type Bar struct {
	Resource       string `json:"resource"`
	Total          uint64 `json:"total"`
	SystemReserved uint64 `json:"systemReserved"`
	Reserved       uint64 `json:"reserved"`
	Free           uint64 `json:"free"`
	// Unaccounted is total - systemReserved - reserved - free when that
	// is not zero (the accounting does not add up).
	Unaccounted int64 `json:"unaccounted,omitempty"`
}

// Node is one NUMA node.
type Node struct {
	ID          int   `json:"node"`
	Cells       []int `json:"cells"`
	Assignments int   `json:"assignments"`
	Bars        []Bar `json:"bars"`
}

// MemoryBars is the memory picture.
type MemoryBars struct {
	Nodes []Node `json:"nodes"`
}

// NewMemoryBars builds the bars of a memory manager checkpoint's content.
func NewMemoryBars(c *memorymanager.Content) *MemoryBars {
	mb := &MemoryBars{Nodes: []Node{}}
	for _, id := range slices.Sorted(maps.Keys(c.MachineState)) {
		ns := c.MachineState[id]
		n := Node{ID: id, Bars: []Bar{}}
		if ns != nil {
			n.Cells, n.Assignments = ns.Cells, ns.NumberOfAssignments
			// Regular memory first, then huge pages by name.
			res := slices.SortedFunc(maps.Keys(ns.MemoryMap), func(a, b memorymanager.ResourceName) int {
				if (a == "memory") != (b == "memory") {
					if a == "memory" {
						return -1
					}
					return 1
				}
				return strings.Compare(string(a), string(b))
			})
			for _, r := range res {
				t := ns.MemoryMap[r]
				if t == nil {
					continue
				}
				bar := Bar{Resource: string(r), Total: t.TotalMemSize, SystemReserved: t.SystemReserved, Reserved: t.Reserved, Free: t.Free}
				bar.Unaccounted = int64(t.TotalMemSize) - int64(t.SystemReserved) - int64(t.Reserved) - int64(t.Free)
				n.Bars = append(n.Bars, bar)
			}
		}
		mb.Nodes = append(mb.Nodes, n)
	}
	return mb
}

// Render draws the bars: each resource's total is one full bar, split into
// system reserved, reserved (by assignments) and free memory.
func (mb *MemoryBars) Render(color bool) string {
	var b strings.Builder
	paint := func(s, code string) string {
		if !color || s == "" {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	width := 0
	for _, n := range mb.Nodes {
		for _, bar := range n.Bars {
			width = max(width, len(bar.Resource))
		}
	}
	for _, n := range mb.Nodes {
		fmt.Fprintf(&b, "NUMA node %d (cells %s, %d assignments)\n", n.ID, ints(n.Cells), n.Assignments)
		if len(n.Bars) == 0 {
			b.WriteString("  (no memory tables)\n")
		}
		for _, bar := range n.Bars {
			fmt.Fprintf(&b, "  %-*s ", width, bar.Resource)
			if bar.Total == 0 {
				b.WriteString("(none)\n")
				continue
			}
			sys, res, free := split(bar)
			fmt.Fprintf(&b, "[%s%s%s%s]  %s total: %s system reserved, %s reserved, %s free",
				paint(strings.Repeat(BarSystem, sys), "2"), paint(strings.Repeat(BarReserved, res), "1;35"),
				paint(strings.Repeat(BarFree, free), "32"), strings.Repeat(" ", BarWidth-sys-res-free),
				machine.FormatBytes(bar.Total), machine.FormatBytes(bar.SystemReserved),
				machine.FormatBytes(bar.Reserved), machine.FormatBytes(bar.Free))
			if bar.Unaccounted != 0 {
				fmt.Fprintf(&b, " (%d bytes unaccounted)", bar.Unaccounted)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "Legend: %s system reserved  %s reserved by assignments  %s free\n",
		paint(BarSystem, "2"), paint(BarReserved, "1;35"), paint(BarFree, "32"))
	return b.String()
}

// split scales the parts of a bar to BarWidth characters; a part that is
// not zero gets at least one.
func split(bar Bar) (sys, res, free int) {
	scale := func(v uint64) int {
		if v == 0 || bar.Total == 0 {
			return 0
		}
		n := int(float64(v) / float64(bar.Total) * BarWidth)
		return max(n, 1)
	}
	sys, res, free = scale(bar.SystemReserved), scale(bar.Reserved), scale(bar.Free)
	if free > 0 && bar.SystemReserved+bar.Reserved+bar.Free == bar.Total {
		free = max(BarWidth-sys-res, 1) // rounding leftovers go to free
	}
	for sys+res+free > BarWidth {
		switch {
		case free > 1:
			free--
		case res > 1:
			res--
		default:
			sys--
		}
	}
	return sys, res, free
}

func ints(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}
