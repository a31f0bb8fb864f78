package prune

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

const outMemory = "v3 (kubelet 1.37's format; kubelet 1.21-1.36 read its embedded V1 block)"

func planMemory(res *Result, data []byte, opts Options) error {
	s, err := memorymanager.Decode(data)
	if err != nil {
		return err
	}
	stale := func(pod string) bool { return opts.Keep != nil && !opts.Keep.Has(pod) }
	for _, pod := range slices.Sorted(maps.Keys(s.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(s.Entries[pod])) {
			if !stale(pod) {
				res.Kept++
				continue
			}
			blocks := s.Entries[pod][ctr]
			release(s.MachineState, blocks)
			res.Removed = append(res.Removed, Removal{Pod: pod, Name: ctr, Holds: describeBlocks(blocks)})
		}
		if stale(pod) {
			delete(s.Entries, pod)
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(s.PodEntries)) {
		if !stale(pod) {
			res.Kept++
			continue
		}
		blocks := s.PodEntries[pod].MemoryBlocks
		release(s.MachineState, blocks)
		res.Removed = append(res.Removed, Removal{Pod: pod, Name: "(pod-level)", Holds: describeBlocks(blocks)})
		delete(s.PodEntries, pod)
	}
	if len(res.Removed) > 0 {
		res.Changes = append(res.Changes, "the released memory returns from reserved to free on its NUMA nodes")
	}
	if opts.Machine.KnowsMemory() {
		drifts, err := Rebase(s, opts.Machine)
		switch {
		case errors.Is(err, ErrMachineMismatch) && len(s.MachineState) > 0 && Assignments(s) == 0:
			// Nothing is assigned: the machine state is only kubelet's
			// bookkeeping of the machine, and kubelet's static policy
			// rebuilds it from the machine when the file has none.
			res.Changes = append(res.Changes, fmt.Sprintf("machine state of NUMA nodes %s reset: nothing is assigned, and "+
				"kubelet rebuilds it from the machine (NUMA nodes %s) at start (it cannot be rebased: %s)",
				joinInts(slices.Sorted(maps.Keys(s.MachineState))), joinInts(opts.Machine.Nodes()),
				strings.TrimPrefix(err.Error(), ErrMachineMismatch.Error()+": ")))
			s.MachineState = memorymanager.NUMANodeMap{}
		case err != nil:
			return err
		}
		for _, d := range drifts {
			res.Changes = append(res.Changes, d.String())
		}
	}
	if len(res.Removed) == 0 && len(res.Changes) == 0 {
		return nil
	}
	res.OutputFormat = outMemory
	res.Data, err = memorymanager.Encode(s)
	return err
}

// Assignments counts the container and pod-level memory assignments of s.
func Assignments(s *memorymanager.State) int {
	n := len(s.PodEntries)
	for _, ctrs := range s.Entries {
		n += len(ctrs)
	}
	return n
}

// release gives the blocks of a removed container back to the NUMA nodes,
// as kubelet's static policy does when it removes a container: for each
// block and each node of its affinity the node's assignment count drops
// (a node left with none gets its own cell group back), and the block's
// size moves from reserved to free, taken from the nodes in affinity order
// as far as each has reserved memory.
func release(ms memorymanager.NUMANodeMap, blocks []memorymanager.Block) {
	for _, b := range blocks {
		left := b.Size
		for _, n := range b.NUMAAffinity {
			ns := ms[n]
			if ns == nil {
				continue
			}
			if ns.NumberOfAssignments > 0 {
				ns.NumberOfAssignments--
			}
			if ns.NumberOfAssignments == 0 {
				ns.Cells = []int{n}
			}
			t := ns.MemoryMap[b.Type]
			if left == 0 || t == nil || t.Reserved == 0 {
				continue
			}
			take := min(left, t.Reserved)
			t.Reserved -= take
			t.Free += take
			left -= take
		}
	}
}

func describeBlocks(blocks []memorymanager.Block) string {
	var parts []string
	for _, b := range blocks {
		parts = append(parts, fmt.Sprintf("%s %s on NUMA %s", b.Type, machine.FormatBytes(b.Size), joinInts(b.NUMAAffinity)))
	}
	return strings.Join(parts, ", ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Drift is one per-NUMA memory figure of a checkpoint that differs from
// what kubelet computes from the machine.
type Drift struct {
	// Node and Resource locate the figure.
	Node     int    `json:"node"`
	Resource string `json:"resource"`
	// Field is "total", "systemReserved", "allocatable" or "free".
	Field string `json:"field"`
	// File is the value in the checkpoint, Machine the value from the
	// machine.
	File    uint64 `json:"file"`
	Machine uint64 `json:"machine"`
}

// String says it in words: "NUMA node 0 memory total: 64 GiB -> 63.96 GiB
// (-40 MiB)".
func (d Drift) String() string {
	return fmt.Sprintf("NUMA node %d %s %s: %s -> %s (%s)", d.Node, d.Resource, d.Field,
		machine.FormatBytes(d.File), machine.FormatBytes(d.Machine), machine.FormatDelta(d.File, d.Machine))
}

// Rebase rewrites the per-NUMA memory tables of s from the machine, the
// way kubelet's static policy computes them at start (total from the
// node's MemTotal or huge pages, allocatable = total - system reserved -
// huge pages), keeping what is reserved by assignments, and returns what
// changed. System reserved memory comes from the machine when it knows it,
// else stays as in the file; huge pages likewise.
//
// A file without machine state (a fresh one) needs no rebase: kubelet fills
// it from the machine at start.
//
// It changes nothing and fails with ErrMachineMismatch, naming the pods
// whose blocks no longer fit, when the machine has other NUMA nodes than
// the file or a node's new allocatable memory is below what is reserved
// there.
func Rebase(s *memorymanager.State, m *machine.Machine) ([]Drift, error) {
	if len(s.MachineState) == 0 {
		// A fresh file: kubelet's static policy builds the machine state
		// from the machine at start, unless something is assigned.
		if n := Assignments(s); n > 0 {
			return nil, fmt.Errorf("%w: the file has %d memory assignments but no machine state (kubelet refuses that)",
				ErrMachineMismatch, n)
		}
		return nil, nil
	}
	fileNodes := slices.Sorted(maps.Keys(s.MachineState))
	if !slices.Equal(fileNodes, m.Nodes()) {
		return nil, fmt.Errorf("%w: the file has NUMA nodes %s, the machine %s", ErrMachineMismatch,
			joinInts(fileNodes), joinInts(m.Nodes()))
	}
	type plan struct {
		node int
		res  string
		t    *memorymanager.MemoryTable
		next memorymanager.MemoryTable
	}
	var plans []plan
	var problems []string
	for _, n := range fileNodes {
		ns := s.MachineState[n]
		if ns == nil {
			return nil, fmt.Errorf("%w: NUMA node %d is null in the file", ErrMachineMismatch, n)
		}
		mn := m.NUMA[n]
		var huge uint64
		var node []plan
		for _, res := range slices.Sorted(maps.Keys(ns.MemoryMap)) {
			t := ns.MemoryMap[res]
			if t == nil || res == "memory" {
				continue
			}
			next := *t
			if mn.HugePages != nil {
				next.TotalMemSize = mn.HugePages[string(res)]
			}
			huge += next.TotalMemSize
			node = append(node, plan{n, string(res), t, next})
		}
		if t := ns.MemoryMap["memory"]; t != nil {
			next := *t
			next.TotalMemSize = mn.MemoryTotal
			if m.SystemReservedPerNode > 0 {
				next.SystemReserved = m.SystemReservedPerNode
			}
			node = append(node, plan{n, "memory", t, next})
		}
		for i := range node {
			p := &node[i]
			sub := p.next.SystemReserved
			if p.res == "memory" {
				sub += huge // memory taken by huge pages is not allocatable as memory
			}
			if p.next.TotalMemSize < sub || p.next.TotalMemSize-sub < p.next.Reserved {
				problems = append(problems, fmt.Sprintf("NUMA node %d %s: %s reserved by %s does not fit in %s",
					n, p.res, machine.FormatBytes(p.next.Reserved), podsOn(s, n, p.res),
					machine.FormatBytes(p.next.TotalMemSize-min(sub, p.next.TotalMemSize))))
				continue
			}
			p.next.Allocatable = p.next.TotalMemSize - sub
			p.next.Free = p.next.Allocatable - p.next.Reserved
		}
		plans = append(plans, node...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMachineMismatch, strings.Join(problems, "; "))
	}
	var drifts []Drift
	for _, p := range plans {
		for _, f := range []struct {
			name     string
			old, new uint64
		}{
			{"total", p.t.TotalMemSize, p.next.TotalMemSize},
			{"systemReserved", p.t.SystemReserved, p.next.SystemReserved},
			{"allocatable", p.t.Allocatable, p.next.Allocatable},
			{"free", p.t.Free, p.next.Free},
		} {
			if f.old != f.new {
				drifts = append(drifts, Drift{Node: p.node, Resource: p.res, Field: f.name, File: f.old, Machine: f.new})
			}
		}
		*p.t = p.next
	}
	slices.SortStableFunc(drifts, func(a, b Drift) int {
		if a.Node != b.Node {
			return a.Node - b.Node
		}
		if a.Resource != b.Resource {
			return strings.Compare(a.Resource, b.Resource)
		}
		return fieldOrder(a.Field) - fieldOrder(b.Field)
	})
	return drifts, nil
}

func fieldOrder(f string) int {
	return slices.Index([]string{"total", "systemReserved", "allocatable", "free"}, f)
}

// podsOn names the pods with blocks of res on NUMA node n.
func podsOn(s *memorymanager.State, n int, res string) string {
	var pods []string
	for pod, ctrs := range s.Entries {
		for ctr, blocks := range ctrs {
			for _, b := range blocks {
				if string(b.Type) == res && slices.Contains(b.NUMAAffinity, n) {
					pods = append(pods, pod+"/"+ctr)
				}
			}
		}
	}
	for pod, e := range s.PodEntries {
		for _, b := range e.MemoryBlocks {
			if string(b.Type) == res && slices.Contains(b.NUMAAffinity, n) {
				pods = append(pods, pod+" (pod-level)")
			}
		}
	}
	slices.Sort(pods)
	pods = slices.Compact(pods)
	if len(pods) == 0 {
		return "no pod"
	}
	return "pods " + strings.Join(pods, ", ")
}
