package cpumanager

import (
	"github.com/ckptkit/ckpt/kubelet/check"
)

// tables renders c for people (ckpt inspect).
func tables(c *Content, format string) []check.Table {
	summary := check.Table{
		Title:  "cpu manager",
		Header: []string{"field", "value"},
		Rows: [][]string{
			{"policy", c.PolicyName},
			{"default cpuset", c.DefaultCPUSet},
			{"default CPUs", cpuCount(c.DefaultCPUSet)},
		},
	}
	if l := c.Legacy; l != nil {
		same := "same as data"
		if l.PolicyName != c.PolicyName || l.DefaultCPUSet != c.DefaultCPUSet || !entriesEqual(l.Entries, c.Entries) {
			same = "differs from data"
		}
		summary.Rows = append(summary.Rows, []string{"embedded V2 block (kubelet 1.35/1.36)", same})
	}
	out := []check.Table{summary}

	if c.ContainerEntries != nil || format == FormatV1 {
		t := check.Table{Title: "container assignments (V1: by container ID)",
			Header: []string{"container ID", "cpuset", "CPUs"}, Rows: [][]string{}}
		for _, id := range sortedKeys(c.ContainerEntries) {
			set := c.ContainerEntries[id]
			t.Rows = append(t.Rows, []string{id, set, cpuCount(set)})
		}
		return append(out, t)
	}
	t := check.Table{Title: "container assignments", Header: []string{"pod", "container", "cpuset", "CPUs"}, Rows: [][]string{}}
	for _, pod := range sortedKeys(c.Entries) {
		for _, ctr := range sortedKeys(c.Entries[pod]) {
			set := c.Entries[pod][ctr]
			t.Rows = append(t.Rows, []string{pod, ctr, set, cpuCount(set)})
		}
	}
	out = append(out, t)
	if len(c.PodEntries) > 0 {
		t := check.Table{Title: "pod-level assignments", Header: []string{"pod", "cpuset", "CPUs"}}
		for _, pod := range sortedKeys(c.PodEntries) {
			set := c.PodEntries[pod]
			t.Rows = append(t.Rows, []string{pod, set, cpuCount(set)})
		}
		out = append(out, t)
	}
	if len(c.Baselines) > 0 {
		t := check.Table{Title: "baselines", Header: []string{"pod", "container", "baseline cpuset", "CPUs"}}
		for _, pod := range sortedKeys(c.Baselines) {
			for _, ctr := range sortedKeys(c.Baselines[pod]) {
				set := c.Baselines[pod][ctr]
				t.Rows = append(t.Rows, []string{pod, ctr, set, cpuCount(set)})
			}
		}
		out = append(out, t)
	}
	return out
}
