package prune

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

const outCPU = "v4 (kubelet 1.37's format; kubelet 1.18-1.36 read its embedded V2 block)"

func planCPU(res *Result, data []byte, opts Options) error {
	s, err := cpumanager.Decode(data)
	if errors.Is(err, cpumanager.ErrV1Layout) {
		return fmt.Errorf("%w: %w; convert it with ckpt migrate first", ErrUnsupported, err)
	}
	if err != nil {
		return err
	}
	def, err := cpuset.Parse(s.DefaultCPUSet)
	if err != nil {
		return err
	}
	var released []cpuset.CPUSet
	stale := func(pod string) bool { return opts.Keep != nil && !opts.Keep.Has(pod) }

	for _, pod := range slices.Sorted(maps.Keys(s.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(s.Entries[pod])) {
			if !stale(pod) {
				res.Kept++
				continue
			}
			set, err := cpuset.Parse(s.Entries[pod][ctr])
			if err != nil {
				return err
			}
			released = append(released, set)
			res.Removed = append(res.Removed, Removal{Pod: pod, Name: ctr, Holds: cpuWord(set)})
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
		set, err := cpuset.Parse(s.PodEntries[pod])
		if err != nil {
			return err
		}
		released = append(released, set)
		res.Removed = append(res.Removed, Removal{Pod: pod, Name: "(pod-level)", Holds: cpuWord(set)})
		delete(s.PodEntries, pod)
	}
	for _, pod := range slices.Sorted(maps.Keys(s.Baselines)) {
		if stale(pod) {
			for _, ctr := range slices.Sorted(maps.Keys(s.Baselines[pod])) {
				res.Removed = append(res.Removed, Removal{Pod: pod, Name: ctr + " (baseline)", Holds: "baseline " + s.Baselines[pod][ctr]})
			}
			delete(s.Baselines, pod)
		}
	}

	held, holders, err := heldCPUs(s)
	if err != nil {
		return err
	}
	// Like kubelet's static policy, a released CPU returns to the default
	// set only when no remaining assignment still holds it.
	newDef := def
	if len(released) > 0 {
		back := cpuset.New().Union(released...).Difference(held)
		newDef = newDef.Union(back)
	}
	if opts.Machine.KnowsCPUs() && s.PolicyName == "static" {
		newDef, err = reconcileCPUs(res, s, newDef, held, holders, opts)
		if err != nil {
			return err
		}
	}
	if !newDef.Equals(def) {
		res.Changes = append(res.Changes, fmt.Sprintf("default CPU set %s -> %s", orNone(def.String()), orNone(newDef.String())))
	}
	s.DefaultCPUSet = newDef.String()
	if len(res.Removed) == 0 && len(res.Changes) == 0 {
		return nil
	}
	if len(s.Entries) == 0 {
		s.Entries = nil
	}
	if len(s.PodEntries) == 0 {
		s.PodEntries = nil
	}
	if len(s.Baselines) == 0 {
		s.Baselines = nil
	}
	res.OutputFormat = outCPU
	res.Data, err = cpumanager.Encode(s)
	return err
}

// heldCPUs returns the union of every exclusive assignment left in s, and
// for each CPU who holds it.
func heldCPUs(s *cpumanager.State) (cpuset.CPUSet, map[int][]string, error) {
	var hb cpuset.Builder
	holders := map[int][]string{}
	for _, pod := range slices.Sorted(maps.Keys(s.Entries)) {
		for _, ctr := range slices.Sorted(maps.Keys(s.Entries[pod])) {
			set, err := cpuset.Parse(s.Entries[pod][ctr])
			if err != nil {
				return hb.Set(), nil, err
			}
			hb.AddSet(set)
			for _, c := range set.List() {
				holders[c] = append(holders[c], pod+"/"+ctr)
			}
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(s.PodEntries)) {
		set, err := cpuset.Parse(s.PodEntries[pod])
		if err != nil {
			return hb.Set(), nil, err
		}
		hb.AddSet(set)
		for _, c := range set.List() {
			if !slices.ContainsFunc(holders[c], func(h string) bool { return len(h) > len(pod) && h[:len(pod)+1] == pod+"/" }) {
				holders[c] = append(holders[c], pod+" (pod-level)")
			}
		}
	}
	return hb.Set(), holders, nil
}

// reconcileCPUs applies kubelet's static-policy invariants against the
// machine to the default set def:
//
//   - default ∩ assigned = ∅: a CPU that a running container holds leaves
//     the default set (only when the pods are known: otherwise whether the
//     holder runs is unknown, and the overlap is only reported);
//   - default ∪ assigned = online: online CPUs nobody holds (leaked by a
//     crash between two writes) return to the default set, and CPUs the
//     machine does not have leave it;
//   - reserved ⊆ default: reserved CPUs that nobody holds are in it (the
//     leaked rule puts them back); a reserved CPU that an assignment holds
//     is only reported.
func reconcileCPUs(res *Result, s *cpumanager.State, def, held cpuset.CPUSet, holders map[int][]string, opts Options) (cpuset.CPUSet, error) {
	online, err := opts.Machine.Online()
	if err != nil {
		return def, err
	}
	on := cpuset.New(online...)
	if def.IsEmpty() && held.IsEmpty() {
		// A fresh static checkpoint: kubelet fills the default set itself.
		return def, nil
	}
	if overlap := def.Intersection(held); !overlap.IsEmpty() {
		if opts.Keep != nil {
			def = def.Difference(overlap)
			res.Changes = append(res.Changes, fmt.Sprintf("%s held by running containers left the default set (double-assigned: %s)",
				cpuWord(overlap), describeHolders(overlap, holders)))
		} else {
			res.Unresolved = append(res.Unresolved, fmt.Sprintf("double-assigned: %s: give the pods on the node (--pods-from) "+
				"to tell whether the holder runs", describeHolders(overlap, holders)))
		}
	}
	if gone := def.Difference(on); !gone.IsEmpty() {
		def = def.Difference(gone)
		res.Changes = append(res.Changes, fmt.Sprintf("%s left the default set: the machine does not have them (online: %s)",
			cpuWord(gone), on.String()))
	}
	if gone := held.Difference(on); !gone.IsEmpty() {
		res.Unresolved = append(res.Unresolved, fmt.Sprintf("assignments hold %s that the machine does not have (%s): "+
			"kubelet will refuse the file until the CPUs are back online, or those pods are deleted and pruned",
			cpuWord(gone), describeHolders(gone, holders)))
	}
	if r, err := opts.Machine.Reserved(); err == nil && len(r) > 0 {
		if taken := cpuset.New(r...).Intersection(held); !taken.IsEmpty() {
			res.Unresolved = append(res.Unresolved, fmt.Sprintf("reserved %s held exclusively (%s): kubelet wants every reserved "+
				"CPU in the default set; delete that pod (then prune its entry), or take the CPUs out of reservedSystemCPUs",
				cpuWord(taken), describeHolders(taken, holders)))
		}
	} else if err != nil {
		return def, err
	}
	if leaked := on.Difference(def).Difference(held); !leaked.IsEmpty() {
		def = def.Union(leaked)
		res.Changes = append(res.Changes, fmt.Sprintf("leaked: %s (held by nobody) returned to the default set", leaked.String()))
	}
	return def, nil
}

func describeHolders(set cpuset.CPUSet, holders map[int][]string) string {
	// Group CPUs by who holds them, in CPU order.
	type group struct {
		who  string
		cpus []int
	}
	var groups []group
	for _, c := range set.List() {
		who := "nobody"
		if h := holders[c]; len(h) > 0 {
			who = "pod " + joinNames(h)
		}
		i := slices.IndexFunc(groups, func(g group) bool { return g.who == who })
		if i < 0 {
			groups = append(groups, group{who: who})
			i = len(groups) - 1
		}
		groups[i].cpus = append(groups[i].cpus, c)
	}
	out := ""
	for i, g := range groups {
		if i > 0 {
			out += "; "
		}
		out += fmt.Sprintf("%s (%s)", cpuset.New(g.cpus...).String(), g.who)
	}
	return out
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// cpuWord says "CPU 1" or "CPUs 1-2".
func cpuWord(set cpuset.CPUSet) string {
	if set.Size() == 1 {
		return "CPU " + set.String()
	}
	return "CPUs " + set.String()
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
