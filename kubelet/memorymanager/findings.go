package memorymanager

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/ckptkit/ckpt/kubelet/internal/k8s/v1"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// maxNotes bounds the accounting findings listed one by one.
const maxNotes = 10

// accountingNotes checks the memory accounting of a state:
//   - per NUMA node and resource: reserved + free = allocatable, and
//     total - systemReserved = allocatable;
//   - per group of NUMA nodes that blocks span together (a block with
//     affinity [0,1] may take its size from either node) and resource: the
//     reserved memory equals the sum of the blocks assigned there;
//   - every block names NUMA nodes the machine state has.
func accountingNotes(s *State) []string {
	var notes []string
	add := func(format string, args ...any) {
		notes = append(notes, fmt.Sprintf(format, args...))
	}
	nodes := slices.Sorted(maps.Keys(s.MachineState))
	for _, n := range nodes {
		ns := s.MachineState[n]
		if ns == nil {
			continue
		}
		for _, res := range slices.Sorted(maps.Keys(ns.MemoryMap)) {
			t := ns.MemoryMap[res]
			if t == nil {
				continue
			}
			if t.Reserved+t.Free != t.Allocatable {
				add("NUMA node %d %s: reserved %s + free %s = %s, but allocatable is %s",
					n, res, size(t.Reserved), size(t.Free), size(t.Reserved+t.Free), size(t.Allocatable))
			}
			if t.TotalMemSize < t.SystemReserved || t.TotalMemSize-t.SystemReserved != t.Allocatable {
				add("NUMA node %d %s: total %s - system reserved %s != allocatable %s",
					n, res, size(t.TotalMemSize), size(t.SystemReserved), size(t.Allocatable))
			}
		}
	}

	// Group nodes that blocks span together (union-find).
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		parent[x] = x
		return x
	}
	for _, n := range nodes {
		find(n)
	}
	type key struct {
		group int
		res   v1.ResourceName
	}
	assigned := map[key]uint64{}
	var blocks [][]state.Block
	for _, pod := range slices.Sorted(maps.Keys(s.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(s.Entries[pod])) {
			blocks = append(blocks, s.Entries[pod][ctr])
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(s.PodEntries)) {
		blocks = append(blocks, s.PodEntries[pod].MemoryBlocks)
	}
	unknown := map[int]bool{}
	noAffinity := 0
	for _, bs := range blocks {
		for _, b := range bs {
			if len(b.NUMAAffinity) == 0 {
				noAffinity++
			}
			for _, n := range b.NUMAAffinity {
				if _, ok := s.MachineState[n]; !ok {
					unknown[n] = true
				}
				if len(b.NUMAAffinity) > 0 {
					parent[find(n)] = find(b.NUMAAffinity[0])
				}
			}
		}
	}
	if noAffinity > 0 {
		add("%d memory blocks have no NUMA affinity (their size is not counted on any node)", noAffinity)
	}
	for _, n := range slices.Sorted(maps.Keys(unknown)) {
		add("a memory block is assigned on NUMA node %d, which the machine state does not have", n)
	}
	for _, bs := range blocks {
		for _, b := range bs {
			if len(b.NUMAAffinity) > 0 {
				assigned[key{find(b.NUMAAffinity[0]), b.Type}] += b.Size
			}
		}
	}
	reserved := map[key]uint64{}
	members := map[int][]int{}
	for _, n := range nodes {
		g := find(n)
		members[g] = append(members[g], n)
		if ns := s.MachineState[n]; ns != nil {
			for res, t := range ns.MemoryMap {
				if t != nil {
					reserved[key{g, res}] += t.Reserved
				}
			}
		}
	}
	keys := slices.Collect(maps.Keys(reserved))
	for k := range assigned {
		if _, ok := reserved[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.group, b.group), strings.Compare(string(a.res), string(b.res)))
	})
	for _, k := range keys {
		if reserved[k] == assigned[k] {
			continue
		}
		where := "NUMA node " + strconv.Itoa(k.group)
		if m := members[k.group]; len(m) > 1 {
			where = "NUMA nodes " + joinInts(m) + " (spanned together by blocks)"
		}
		add("%s %s: reserved %s, but the blocks assigned there sum to %s", where, k.res, size(reserved[k]), size(assigned[k]))
	}
	if len(notes) > maxNotes {
		notes = append(notes[:maxNotes], fmt.Sprintf("... and %d more accounting findings", len(notes)-maxNotes))
	}
	return notes
}

// legacyNotes compares v3's embedded v1 block with its data.
func legacyNotes(c *Content) []string {
	l := c.Legacy
	if l == nil {
		return nil
	}
	var notes []string
	if len(c.PodEntries) > 0 {
		notes = append(notes, fmt.Sprintf("pod-level entries of %d pods are not in the embedded V1 block, so "+
			"kubelet 1.35 and 1.36 restore without them", len(c.PodEntries)))
	}
	var diffs []string
	if l.PolicyName != c.PolicyName {
		diffs = append(diffs, fmt.Sprintf("policy %q vs %q", l.PolicyName, c.PolicyName))
	}
	if !reflect.DeepEqual(l.MachineState, c.MachineState) {
		diffs = append(diffs, "machine state differs")
	}
	if !(len(l.Entries) == 0 && len(c.Entries) == 0) && !reflect.DeepEqual(l.Entries, c.Entries) {
		diffs = append(diffs, "container entries differ")
	}
	if len(diffs) > 0 {
		notes = append(notes, "the embedded V1 block (read by kubelet 1.35 and 1.36) differs from data (read by 1.37): "+
			strings.Join(diffs, ", "))
	}
	return notes
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// size renders bytes for people: "8Gi", "512Mi", or the exact number.
func size(b uint64) string {
	for _, u := range []struct {
		suffix string
		n      uint64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b >= u.n && b%u.n == 0 {
			return strconv.FormatUint(b/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatUint(b, 10)
}
