package cpumanager

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// maxOverlapNotes bounds the overlap findings listed one by one, so that a
// badly damaged file gives a readable report.
const maxOverlapNotes = 10

// holder is something that holds exclusive CPUs.
type holder struct {
	name     string // "pod <uid>/<ctr>", "pod <uid> (pod-level)", "container <id>"
	pod      string // "" for V1 container IDs
	podLevel bool
	set      cpuset.CPUSet
}

// holders returns every assignment of c with parsed sets, in a stable
// order; ok is false when a set does not parse.
func holders(c *Content) (out []holder, ok bool) {
	for _, id := range sortedKeys(c.ContainerEntries) {
		cs, err := cpuset.Parse(c.ContainerEntries[id])
		if err != nil {
			return nil, false
		}
		out = append(out, holder{name: "container " + id, set: cs})
	}
	for _, pod := range sortedKeys(c.Entries) {
		for _, ctr := range sortedKeys(c.Entries[pod]) {
			cs, err := cpuset.Parse(c.Entries[pod][ctr])
			if err != nil {
				return nil, false
			}
			out = append(out, holder{name: pod + "/" + ctr, pod: pod, set: cs})
		}
	}
	for _, pod := range sortedKeys(c.PodEntries) {
		cs, err := cpuset.Parse(c.PodEntries[pod])
		if err != nil {
			return nil, false
		}
		out = append(out, holder{name: pod + " (pod-level)", pod: pod, podLevel: true, set: cs})
	}
	return out, true
}

// semanticNotes reports CPUs held twice and CPUs in a gap of the union of
// the default set and all assignments. It returns nothing when a set does
// not parse (that is reported elsewhere).
func semanticNotes(c *Content) []string {
	def, err := cpuset.Parse(c.DefaultCPUSet)
	if err != nil {
		return nil
	}
	hs, ok := holders(c)
	if !ok {
		return nil
	}
	notes := overlapNotes(def, hs)
	if gap := gapNote(def, hs, "the default set"); gap != "" {
		notes = append(notes, gap)
	}
	return notes
}

// overlapNotes lists CPUs that are exclusive to more than one holder, or
// both exclusive and in the default set. A pod-level set and the containers
// of the same pod may share CPUs: the containers are carved from it.
func overlapNotes(def cpuset.CPUSet, hs []holder) []string {
	byCPU := map[int][]string{}
	for i, h := range hs {
		for _, cpu := range h.set.List() {
			if h.podLevel && podHasContainerOn(hs, i, cpu) {
				continue
			}
			byCPU[cpu] = append(byCPU[cpu], h.name)
		}
	}
	// Group CPUs that have the same conflict.
	groups := map[string][]int{}
	for cpu, names := range byCPU {
		inDefault := def.Contains(cpu)
		if len(names) < 2 && !(inDefault && len(names) > 0) {
			continue
		}
		key := joinCapped(names, 4)
		if inDefault {
			key = "the default set, " + key
		}
		groups[key] = append(groups[key], cpu)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(slices.Min(groups[a]), slices.Min(groups[b])), strings.Compare(a, b))
	})
	var notes []string
	for i, k := range keys {
		if i == maxOverlapNotes {
			notes = append(notes, fmt.Sprintf("... and %d more groups of CPUs assigned more than once", len(keys)-i))
			break
		}
		set := cpuset.New(groups[k]...)
		notes = append(notes, fmt.Sprintf("%s assigned more than once (exclusive CPUs must not be shared): %s",
			cpuWord(set), k))
	}
	return notes
}

func podHasContainerOn(hs []holder, podLevel int, cpu int) bool {
	for i, h := range hs {
		if i != podLevel && !h.podLevel && h.pod == hs[podLevel].pod && h.set.Contains(cpu) {
			return true
		}
	}
	return false
}

// gapNote reports CPUs between the lowest and highest CPU the file
// mentions that are in neither the default set nor any assignment: CPUs a
// crash between two writes can leave behind (leaked).
func gapNote(def cpuset.CPUSet, hs []holder, defName string) string {
	var b cpuset.Builder
	b.AddSet(def)
	for _, h := range hs {
		b.AddSet(h.set)
	}
	all := b.Set()
	if all.IsEmpty() {
		return ""
	}
	list := all.List()
	var missing []int
	for cpu := list[0]; cpu <= list[len(list)-1]; cpu++ {
		if !all.Contains(cpu) {
			missing = append(missing, cpu)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	set := cpuset.New(missing...)
	verb := "are"
	if set.Size() == 1 {
		verb = "is"
	}
	return fmt.Sprintf("%s %s in neither %s nor any assignment (leaked, or offline)", cpuWord(set), verb, defName)
}

// cpuWord says "CPU 1" or "CPUs 1-2".
func cpuWord(set cpuset.CPUSet) string {
	if set.Size() == 1 {
		return "CPU " + set.String()
	}
	return "CPUs " + set.String()
}

// legacyNotes compares V4's embedded V2 block with its data: what kubelet
// 1.35 and 1.36 restore against what 1.37 restores.
func legacyNotes(c *Content) []string {
	l := c.Legacy
	if l == nil {
		return nil
	}
	var notes []string
	if len(c.PodEntries) > 0 {
		pods := sortedKeys(c.PodEntries)
		var list []string
		for _, p := range pods {
			list = append(list, p+": "+c.PodEntries[p])
		}
		notes = append(notes, fmt.Sprintf("pod-level assignments are not in the embedded V2 block, so kubelet 1.35 and 1.36 "+
			"restore without them: %s", strings.Join(list, "; ")))
	}
	var diffs []string
	if l.PolicyName != c.PolicyName {
		diffs = append(diffs, fmt.Sprintf("policy %q vs %q", l.PolicyName, c.PolicyName))
	}
	if l.DefaultCPUSet != c.DefaultCPUSet {
		diffs = append(diffs, fmt.Sprintf("default set %q vs %q", l.DefaultCPUSet, c.DefaultCPUSet))
	}
	if !entriesEqual(l.Entries, c.Entries) {
		diffs = append(diffs, fmt.Sprintf("container entries differ (%d vs %d pods)", len(l.Entries), len(c.Entries)))
	}
	if len(diffs) > 0 {
		notes = append(notes, "the embedded V2 block (read by kubelet 1.35 and 1.36) differs from data (read by 1.37): "+
			strings.Join(diffs, ", "))
	}
	if def, err := cpuset.Parse(l.DefaultCPUSet); err == nil {
		if hs, ok := holders(&Content{State: State{Entries: l.Entries}}); ok {
			if gap := gapNote(def, hs, "the V2 block's default set"); gap != "" {
				notes = append(notes, "as kubelet 1.35 and 1.36 read it: "+gap)
			}
		}
	}
	return notes
}

func entriesEqual(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for pod, ac := range a {
		bc, ok := b[pod]
		if !ok || len(ac) != len(bc) {
			return false
		}
		for ctr, set := range ac {
			if other, ok := bc[ctr]; !ok || other != set {
				return false
			}
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cpuCount renders the size of a cpuset, or "?" when it does not parse.
func cpuCount(set string) string {
	cs, err := cpuset.Parse(set)
	if err != nil {
		return "?"
	}
	return strconv.Itoa(cs.Size())
}

// joinCapped joins at most n names and says how many more there are.
func joinCapped(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
