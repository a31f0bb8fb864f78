package memorymanager

import (
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// tables renders c for people (ckpt inspect).
func tables(c *Content) []check.Table {
	pods := 0
	for _, ctrs := range c.Entries {
		pods += len(ctrs)
	}
	summary := check.Table{
		Title:  "memory manager",
		Header: []string{"field", "value"},
		Rows: [][]string{
			{"policy", c.PolicyName},
			{"NUMA nodes", strconv.Itoa(len(c.MachineState))},
			{"containers with blocks", strconv.Itoa(pods)},
			{"pods with pod-level blocks", strconv.Itoa(len(c.PodEntries))},
		},
	}
	if l := c.Legacy; l != nil {
		same := "same as data"
		if l.PolicyName != c.PolicyName || !reflect.DeepEqual(l.MachineState, c.MachineState) ||
			(len(l.Entries) != 0 || len(c.Entries) != 0) && !reflect.DeepEqual(l.Entries, c.Entries) {
			same = "differs from data"
		}
		summary.Rows = append(summary.Rows, []string{"embedded V1 block (kubelet 1.35/1.36)", same})
	}

	numa := check.Table{
		Title:  "NUMA nodes",
		Header: []string{"node", "resource", "total", "systemReserved", "allocatable", "reserved", "free", "assignments", "cells"},
		Rows:   [][]string{},
	}
	for _, n := range slices.Sorted(maps.Keys(c.MachineState)) {
		ns := c.MachineState[n]
		if ns == nil {
			numa.Rows = append(numa.Rows, []string{strconv.Itoa(n), "(null)", "", "", "", "", "", "", ""})
			continue
		}
		for _, res := range slices.Sorted(maps.Keys(ns.MemoryMap)) {
			t := ns.MemoryMap[res]
			if t == nil {
				numa.Rows = append(numa.Rows, []string{strconv.Itoa(n), string(res), "(null)", "", "", "", "", "", ""})
				continue
			}
			numa.Rows = append(numa.Rows, []string{strconv.Itoa(n), string(res), size(t.TotalMemSize),
				size(t.SystemReserved), size(t.Allocatable), size(t.Reserved), size(t.Free),
				strconv.Itoa(ns.NumberOfAssignments), joinInts(ns.Cells)})
		}
	}

	blocks := check.Table{
		Title:  "memory blocks",
		Header: []string{"pod", "container", "NUMA affinity", "type", "size"},
		Rows:   [][]string{},
	}
	for _, pod := range slices.Sorted(maps.Keys(c.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(c.Entries[pod])) {
			for _, b := range c.Entries[pod][ctr] {
				blocks.Rows = append(blocks.Rows, []string{pod, ctr, joinInts(b.NUMAAffinity), string(b.Type), size(b.Size)})
			}
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(c.PodEntries)) {
		for _, b := range c.PodEntries[pod].MemoryBlocks {
			blocks.Rows = append(blocks.Rows, []string{pod, "(pod-level)", joinInts(b.NUMAAffinity), string(b.Type), size(b.Size)})
		}
	}
	return []check.Table{summary, numa, blocks}
}
