package doctor

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

// semantics checks a file that verifies against the configuration, the
// machine and the pods, adds findings, and returns short phrases for the
// file's status line.
func (d *doctor) semantics(f kubelet.File) []string {
	var out []string
	if len(holdings(f.Result)) > 0 {
		d.need.pods = true
	}
	switch c := f.Result.Content.(type) {
	case *cpumanager.Content:
		out = d.cpu(f, c)
	case *memorymanager.Content:
		out = d.memory(f, c)
	}
	return append(out, d.stale(f)...)
}

// holder is an exclusive CPU assignment.
type holder struct {
	name string
	set  cpuset.CPUSet
	pod  string
	lvl  bool // pod-level
}

func cpuHolders(c *cpumanager.Content) ([]holder, error) {
	var hs []holder
	for _, id := range sortedKeys(c.ContainerEntries) {
		s, err := cpuset.Parse(c.ContainerEntries[id])
		if err != nil {
			return nil, err
		}
		hs = append(hs, holder{name: "container " + id, set: s})
	}
	for _, pod := range sortedKeys(c.Entries) {
		for _, ctr := range sortedKeys(c.Entries[pod]) {
			s, err := cpuset.Parse(c.Entries[pod][ctr])
			if err != nil {
				return nil, err
			}
			hs = append(hs, holder{name: "pod " + pod + "/" + ctr, set: s, pod: pod})
		}
	}
	for _, pod := range sortedKeys(c.PodEntries) {
		s, err := cpuset.Parse(c.PodEntries[pod])
		if err != nil {
			return nil, err
		}
		hs = append(hs, holder{name: "pod " + pod + " (pod-level)", set: s, pod: pod, lvl: true})
	}
	return hs, nil
}

// cpu checks the policy, and for the static policy the invariants kubelet's
// static policy validates at start.
func (d *doctor) cpu(f kubelet.File, c *cpumanager.Content) []string {
	var phrases []string
	if cfg := d.opts.Config; cfg != nil && c.PolicyName != cfg.CPUManagerPolicy {
		phrases = append(phrases, fmt.Sprintf("policy %q, configured %q", c.PolicyName, cfg.CPUManagerPolicy))
		d.cpuPolicy(f, c, cfg.CPUManagerPolicy)
	}
	if c.PolicyName != "static" {
		return phrases
	}
	d.need.cpus = true
	def, err := cpuset.Parse(c.DefaultCPUSet)
	if err != nil {
		return phrases
	}
	hs, err := cpuHolders(c)
	if err != nil {
		return phrases
	}
	var hb cpuset.Builder
	for _, h := range hs {
		hb.AddSet(h.set)
	}
	held := hb.Set()
	if def.IsEmpty() && held.IsEmpty() {
		return phrases // a fresh static file: kubelet fills the default set itself
	}
	fix := func(pods bool) string { return d.pruneFix(f, pods, true) }

	// default ∩ assigned = ∅, and no CPU held twice.
	var doubles []string
	for _, h := range hs {
		if o := h.set.Intersection(def); !o.IsEmpty() {
			doubles = append(doubles, fmt.Sprintf("%s (%s)", o.String(), h.name))
		}
	}
	for i, a := range hs {
		for _, b := range hs[i+1:] {
			if a.pod != "" && a.pod == b.pod && (a.lvl || b.lvl) {
				continue // a pod's containers are carved from its pod-level set
			}
			if o := a.set.Intersection(b.set); !o.IsEmpty() {
				doubles = append(doubles, fmt.Sprintf("%s (%s and %s)", o.String(), a.name, b.name))
			}
		}
	}
	if len(doubles) > 0 {
		summary := "double-assigned: " + strings.Join(doubles, "; ")
		phrases = append(phrases, summary)
		d.add(Finding{Severity: Error, Code: CodeCPUDouble, Path: f.Path, Kind: check.KindCPU, Summary: summary,
			Meaning: "exclusive CPUs of a container are also in the default set (the shared pool), or held by two containers, as a crash between kubelet's two writes " +
				"of one allocation leaves them; the static policy refuses to start (\"... overlaps with default cpuset ...\"). " +
				"prune keeps the CPUs with a container that still runs (given the pods on the node) and takes them out " +
				"of the default set, or drops the assignment of a container that is gone.",
			Fix: fix(true), StopKubelet: true})
	}

	if d.opts.Machine.KnowsCPUs() {
		online, err := d.opts.Machine.Online()
		if err != nil {
			return phrases
		}
		on := cpuset.New(online...)
		known := def.Union(held)
		var reserved cpuset.CPUSet
		if r, err := d.reservedCPUs(); err == nil {
			reserved = r
		}
		strict := d.opts.Config.StrictCPUReservation()
		if strict {
			known = known.Union(reserved)
		}
		if leaked := on.Difference(known); !leaked.IsEmpty() {
			summary := "leaked: " + leaked.String()
			phrases = append(phrases, summary)
			d.add(Finding{Severity: Error, Code: CodeCPULeaked, Path: f.Path, Kind: check.KindCPU, Summary: summary,
				Meaning: fmt.Sprintf("online CPUs in neither the default set nor any assignment (a crash between kubelet's two "+
					"writes of one allocation); the static policy refuses to start: current set of available CPUs %q "+
					"doesn't match with CPUs in state %q. Returning them to the default set loses nothing.",
					on.String(), known.String()),
				Fix: fix(false), StopKubelet: true})
		}
		if gone := known.Difference(on); !gone.IsEmpty() {
			summary := "CPUs the machine does not have: " + gone.String()
			phrases = append(phrases, summary)
			var who []string
			for _, h := range hs {
				if o := h.set.Difference(on); !o.IsEmpty() {
					who = append(who, fmt.Sprintf("%s holds %s", h.name, o.String()))
				}
			}
			fd := Finding{Severity: Error, Code: CodeCPUMissing, Path: f.Path, Kind: check.KindCPU, Summary: summary,
				Meaning: fmt.Sprintf("the file names CPUs that are not online on this machine (online: %s): CPUs were taken "+
					"offline, or the file comes from another machine; the static policy refuses to start.", on.String()),
				Details: who, StopKubelet: true}
			if len(who) == 0 {
				fd.Meaning += " Only the default set names them: removing them from it loses nothing."
				fd.Fix = fix(false)
			} else {
				fd.Meaning += " Assignments hold some of them: those pods cannot keep their CPUs. Bring the CPUs back online, " +
					"or delete those pods and prune their entries."
				fd.Fix = "kubectl delete pod ...   # the pods listed\n" + fix(true)
			}
			d.add(fd)
		}
		if !reserved.IsEmpty() {
			if strict {
				if o := reserved.Intersection(def); !o.IsEmpty() {
					d.add(Finding{Severity: Error, Code: CodeCPUReserved, Path: f.Path, Kind: check.KindCPU,
						Summary: "strictly reserved CPUs in the default set: " + o.String(),
						Meaning: "with strict-cpu-reservation the reserved CPUs must stay out of the default set; the static policy refuses to start",
						Fix:     "ckpt repair " + quote(f.Path) + "   # after removing them from defaultCpuSet by hand"})
				}
			} else if taken := reserved.Difference(def).Intersection(held); !taken.IsEmpty() {
				// Reserved CPUs that nobody holds are leaked, and the
				// leaked finding returns them; those an assignment holds
				// are the reservation's conflict with a pod, which no
				// rewrite of the file resolves.
				d.reservedHeld(f, hs, reserved, taken, fix)
				phrases = append(phrases, "reserved CPUs held by a pod: "+taken.String())
			}
		}
	} else if known := def.Union(held); !known.IsEmpty() {
		// Without the machine, a hole below the highest CPU named is
		// suspicious: CPUs are numbered from 0 without gaps on most nodes.
		list := known.List()
		var missing []int
		for cpu := 0; cpu <= list[len(list)-1]; cpu++ {
			if !known.Contains(cpu) {
				missing = append(missing, cpu)
			}
		}
		if len(missing) > 0 {
			ms := cpuset.New(missing...)
			word := "CPUs"
			if ms.Size() == 1 {
				word = "CPU"
			}
			summary := fmt.Sprintf("%s %s missing", word, ms.String())
			phrases = append(phrases, summary)
			d.add(Finding{Severity: Warning, Code: CodeCPULeaked, Path: f.Path, Kind: check.KindCPU,
				Summary: summary + " (in neither the default set nor any assignment)",
				Meaning: "either leaked by a crash between two writes (kubelet's static policy then refuses to start), " +
					"or offline on this machine; give --cpus, --sys or --machine to tell",
				Fix: fix(false), StopKubelet: true})
		}
	}
	return phrases
}

// reservedHeld reports reserved CPUs that an exclusive assignment holds
// (case: reservedSystemCPUs changed to take in a CPU a running pod holds).
// Prune cannot resolve it while the pod runs: the reservation must go back,
// or the pod. When the pod list says the holder is gone, pruning its entry
// returns the CPUs.
func (d *doctor) reservedHeld(f kubelet.File, hs []holder, reserved, taken cpuset.CPUSet, fix func(bool) string) {
	var who, running []string
	for _, h := range hs {
		if o := h.set.Intersection(taken); !o.IsEmpty() {
			who = append(who, fmt.Sprintf("%s holds %s", h.name, o.String()))
			if h.pod == "" || d.opts.Pods == nil || d.opts.Pods.Has(h.pod) {
				running = append(running, h.name)
			}
		}
	}
	fd := Finding{Severity: Error, Code: CodeCPUReserved, Path: f.Path, Kind: check.KindCPU,
		Summary: "reserved CPUs held exclusively by a pod: " + taken.String(), Details: who, StopKubelet: true,
		Meaning: fmt.Sprintf("kubelet keeps the reserved CPUs (%s) in the default set and refuses to start otherwise "+
			"(\"not all reserved cpus ... are present in defaultCpuSet\"). The reservation was changed to take in CPUs "+
			"that a pod holds exclusively. ", reserved.String())}
	if len(running) == 0 {
		fd.Meaning += "The pod list says their pods are gone: pruning their entries returns the CPUs to the default set."
		fd.Fix = fix(true)
		d.add(fd)
		return
	}
	config := orDefault(d.opts.ConfigPath, "the kubelet configuration")
	fd.Meaning += fmt.Sprintf("Rewriting the file cannot fix this while the pod runs. Either revert reservedSystemCPUs "+
		"in %s so that it leaves out %s (nothing else to do), or remove the pod that holds them (its containers must "+
		"stop: kubectl delete pod, or with kubelet stopped crictl stopp and crictl rmp of its sandbox), then prune its "+
		"entry with a fresh pod list.", config, taken.String())
	fd.Fix = fmt.Sprintf("# either set reservedSystemCPUs in %s back to leave out %s, or:\n"+
		"kubectl delete pod --namespace NAMESPACE NAME   # the pod that holds them: %s\n"+
		"crictl pods -o json > PODS.json                 # the pods left on the node\n", config, taken.String(),
		strings.Join(running, ", ")) + d.pruneFixWith(f, []string{"--pods-from", "PODS.json"})
	d.add(fd)
}

func (d *doctor) reservedCPUs() (cpuset.CPUSet, error) {
	if cfg := d.opts.Config; cfg != nil && cfg.ReservedSystemCPUs != "" {
		return cpuset.Parse(cfg.ReservedSystemCPUs)
	}
	r, err := d.opts.Machine.Reserved()
	if err != nil {
		return cpuset.New(), err
	}
	return cpuset.New(r...), nil
}

// cpuPolicy reports a CPU manager policy that differs from the
// configuration (B01).
func (d *doctor) cpuPolicy(f kubelet.File, c *cpumanager.Content, want string) {
	hs, _ := cpuHolders(c)
	fd := Finding{Severity: Error, Code: CodePolicy, Path: f.Path, Kind: check.KindCPU,
		Summary: fmt.Sprintf("CPU manager policy in the file is %q, the configuration (%s) asks for %q",
			c.PolicyName, orDefault(d.opts.ConfigPath, "--kubelet-config"), want),
		Meaning: fmt.Sprintf("not corruption: the policy was changed. Kubelet refuses to start: \"configured policy %q differs "+
			"from state checkpoint policy %q\".", want, c.PolicyName),
		StopKubelet: true}
	if len(hs) == 0 {
		fd.Meaning += fmt.Sprintf(" The file holds no exclusive CPU assignment, so switching to %q loses nothing.", want)
		fd.Fix = d.policyFix(f.Path, want, false)
	} else {
		for _, h := range hs {
			fd.Details = append(fd.Details, fmt.Sprintf("%s: CPUs %s", h.name, h.set.String()))
		}
		fd.Meaning += fmt.Sprintf(" The file holds %d exclusive CPU assignments (listed); the %q policy cannot keep them, "+
			"so their pods must be restarted: drain the node first.", len(hs), want)
		fd.Fix = "kubectl drain NODE --ignore-daemonsets --delete-emptydir-data\n" + d.policyFix(f.Path, want, true)
	}
	d.add(fd)
}

// memory checks the memory manager policy and, for the static policy, the
// per-NUMA totals against the machine (B08).
func (d *doctor) memory(f kubelet.File, c *memorymanager.Content) []string {
	var phrases []string
	assigned := len(c.Entries) + len(c.PodEntries)
	if cfg := d.opts.Config; cfg != nil && c.PolicyName != cfg.MemoryManagerPolicy {
		phrases = append(phrases, fmt.Sprintf("policy %q, configured %q", c.PolicyName, cfg.MemoryManagerPolicy))
		fd := Finding{Severity: Error, Code: CodePolicy, Path: f.Path, Kind: check.KindMemory,
			Summary: fmt.Sprintf("memory manager policy in the file is %q, the configuration (%s) asks for %q",
				c.PolicyName, orDefault(d.opts.ConfigPath, "--kubelet-config"), cfg.MemoryManagerPolicy),
			Meaning: fmt.Sprintf("not corruption: the policy was changed. Kubelet refuses to start: \"[memorymanager] configured "+
				"policy %q differs from state checkpoint policy %q\".", cfg.MemoryManagerPolicy, c.PolicyName),
			StopKubelet: true}
		if assigned == 0 {
			fd.Meaning += fmt.Sprintf(" The file holds no memory assignment, so switching to %q loses nothing.", cfg.MemoryManagerPolicy)
			fd.Fix = d.policyFix(f.Path, cfg.MemoryManagerPolicy, false)
		} else {
			fd.Details = holdings(f.Result)
			fd.Meaning += " The file holds memory assignments (listed) that the new policy cannot keep: drain the node first."
			fd.Fix = "kubectl drain NODE --ignore-daemonsets --delete-emptydir-data\n" + d.policyFix(f.Path, cfg.MemoryManagerPolicy, true)
		}
		d.add(fd)
	}
	if c.PolicyName != "Static" {
		return phrases
	}
	d.need.memory = true
	if !d.opts.Machine.KnowsMemory() {
		return phrases
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return phrases
	}
	s, err := memorymanager.Decode(data)
	if err != nil {
		return phrases
	}
	m := d.machineForMemory()
	drifts, err := prune.Rebase(s, m)
	if errors.Is(err, prune.ErrMachineMismatch) && prune.Assignments(s) == 0 {
		summary := "NUMA memory differs from the machine (" + strings.TrimPrefix(err.Error(), prune.ErrMachineMismatch.Error()+": ") +
			"); safe to reset (nothing is assigned)"
		phrases = append(phrases, summary)
		d.add(Finding{Severity: Error, Code: CodeMemoryDrift, Path: f.Path, Kind: check.KindMemory, Summary: summary,
			Meaning: "the static memory policy refuses to start (\"Memory states for the NUMA node and resource are " +
				"different\"). The file cannot be rebased on this machine, but nothing is assigned: its machine state is " +
				"only kubelet's bookkeeping of the machine, and kubelet rebuilds it from the machine when the file has " +
				"none. prune resets it; no pod is affected and no drain is needed.",
			Fix: d.pruneFix(f, false, true), StopKubelet: true})
		return phrases
	}
	if errors.Is(err, prune.ErrMachineMismatch) {
		summary := "NUMA memory differs from the machine, and the assignments no longer fit"
		phrases = append(phrases, summary)
		d.add(Finding{Severity: Error, Code: CodeMemoryDrift, Path: f.Path, Kind: check.KindMemory, Summary: summary,
			Meaning: "the static memory policy refuses to start (\"Memory states for the NUMA node and resource are " +
				"different\"), and the memory of the machine cannot hold what the file assigns: " + err.Error() +
				". Nothing less than draining the node and starting from a fresh file will do.",
			Fix: moveAsideFix(f.Path, true), StopKubelet: true})
		return phrases
	}
	if err != nil || len(drifts) == 0 {
		return phrases
	}
	var deltas, details []string
	for _, dr := range drifts {
		details = append(details, dr.String())
		if dr.Field == "total" || dr.Field == "systemReserved" {
			deltas = append(deltas, fmt.Sprintf("node %d %s %s %s", dr.Node, dr.Resource, dr.Field,
				machine.FormatDelta(dr.File, dr.Machine)))
		}
	}
	if len(deltas) == 0 {
		deltas = append(deltas, "allocatable or free figures")
	}
	summary := "NUMA memory differs from the machine: " + strings.Join(deltas, ", ")
	meaning := "the static memory policy compares each NUMA node's memory with the machine at start and refuses to start " +
		"(\"Memory states for the NUMA node and resource are different\"); after a reboot the kernel may split the " +
		"same memory differently between nodes. "
	if assigned == 0 {
		summary += "; safe to rebase (nothing is assigned)"
		meaning += "Nothing is assigned, so rebasing the file on the machine loses nothing."
	} else {
		summary += fmt.Sprintf("; rebase keeps the %d assignments (they still fit)", assigned)
		meaning += "The assignments still fit on the machine's memory: rebasing keeps them and recomputes free memory."
	}
	phrases = append(phrases, summary)
	d.add(Finding{Severity: Error, Code: CodeMemoryDrift, Path: f.Path, Kind: check.KindMemory, Summary: summary,
		Meaning: meaning, Details: details, Fix: d.pruneFix(f, false, true), StopKubelet: true})
	return phrases
}

// machineForMemory is the machine, with the system-reserved memory of the
// kubelet configuration when the machine description does not say.
func (d *doctor) machineForMemory() *machine.Machine {
	m := *d.opts.Machine
	if m.SystemReservedPerNode == 0 && d.opts.Config != nil {
		var same uint64
		ok := true
		for i, n := range m.Nodes() {
			r, found := d.opts.Config.reservedMemoryOn(n)
			if !found || (i > 0 && r != same) {
				ok = false
				break
			}
			same = r
		}
		if ok {
			m.SystemReservedPerNode = same
		}
	}
	return &m
}

// stale reports entries of pods that no longer exist (B07, B15).
func (d *doctor) stale(f kubelet.File) []string {
	if d.opts.Pods == nil {
		return nil
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return nil
	}
	plan, err := prune.Plan(f.Path, data, prune.Options{Keep: d.opts.Pods})
	if err != nil || len(plan.Removed) == 0 {
		return nil
	}
	if plan.NoMatch && !d.listMatchesNode() {
		// No pod of the list has an entry in any checkpoint here: the
		// list is more likely another node's than every pod gone.
		var details []string
		for _, r := range plan.Removed {
			details = append(details, fmt.Sprintf("%s/%s: %s", r.Pod, r.Name, r.Holds))
		}
		d.add(Finding{Severity: Warning, Code: CodePodList, Path: f.Path, Kind: f.Result.Kind,
			Summary: fmt.Sprintf("no pod of the pod list (%d pods) has an entry in this file or any other checkpoint here", len(d.opts.Pods)),
			Meaning: "either every pod with an entry is gone, or the list does not come from this node (another node's " +
				"list, or a command that failed). Pruning with it would drop every entry listed, and prune refuses to " +
				"unless --allow-no-match. Check the list before anything else.",
			Details: details,
			Fix:     "crictl pods -o json > PODS.json     # on this node; then run ckpt doctor again with --pods-from PODS.json"})
		return []string{"no pod of the pod list has an entry"}
	}
	var details []string
	for _, r := range plan.Removed {
		details = append(details, fmt.Sprintf("%s/%s: %s", r.Pod, r.Name, r.Holds))
	}
	for _, c := range plan.Changes {
		details = append(details, "after prune: "+c)
	}
	n := len(plan.Removed)
	word := "entries"
	if n == 1 {
		word = "entry"
	}
	summary := fmt.Sprintf("%d stale %s of pods that no longer exist", n, word)
	meaning := map[check.Kind]string{
		check.KindCPU: "their exclusive CPUs stay out of the shared pool: kubelet releases them only when it next " +
			"admits a pod, and not at all while it cannot start",
		check.KindMemory: "their memory stays reserved on its NUMA nodes until kubelet next admits a pod",
		check.KindDevice: "their devices stay allocated: new pods that ask for them fail admission " +
			"(UnexpectedAdmissionError) until kubelet reconciles",
		check.KindDRA: "kubelet unprepares the claims of pods that are gone when it reconciles; prune only when " +
			"kubelet cannot start, and then check that the driver released the devices",
		check.KindAllocation: "kubelet keeps recorded resources for pods that are gone until it cleans up",
	}[f.Result.Kind]
	if plan.NoMatch {
		meaning += ". No pod of the list has an entry in this file (it matches entries of other checkpoints here, so " +
			"it is this node's): prune needs --allow-no-match to drop them all"
	}
	d.add(Finding{Severity: Warning, Code: CodeStale, Path: f.Path, Kind: f.Result.Kind, Summary: summary,
		Meaning: meaning + ". Pruning gives back what they hold.", Details: details,
		Fix: d.pruneFix(f, true, false), StopKubelet: true})
	phrase := "stale: " + strings.Join(details[:min(len(plan.Removed), 3)], ", ")
	if len(plan.Removed) > 3 {
		phrase += fmt.Sprintf(" and %d more", len(plan.Removed)-3)
	}
	return []string{phrase}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// noMatch reports whether no pod of the pod list has an entry in f (and
// pruning it with the list would drop entries).
func (d *doctor) noMatch(f kubelet.File) bool {
	if d.opts.Pods == nil {
		return false
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return false
	}
	plan, err := prune.Plan(f.Path, data, prune.Options{Keep: d.opts.Pods})
	return err == nil && plan.NoMatch
}

// listMatchesNode reports whether some pod of the pod list has an entry in
// some checkpoint of the directory: evidence that the list is this node's.
func (d *doctor) listMatchesNode() bool {
	if d.listMatch != nil {
		return *d.listMatch
	}
	match := false
	for _, p := range d.checkpointPaths() {
		data, _, err := kubelet.ReadFile(p, 0)
		if err != nil {
			continue
		}
		if plan, err := prune.Plan(p, data, prune.Options{Keep: d.opts.Pods}); err == nil && plan.Kept > 0 {
			match = true
			break
		}
	}
	d.listMatch = &match
	return match
}

// pruneFixWith is pruneFix with other pod flags (for a list still to be
// made).
func (d *doctor) pruneFixWith(f kubelet.File, podArgs []string) string {
	saved := d.opts.PodsArgs
	d.opts.PodsArgs = podArgs
	defer func() { d.opts.PodsArgs = saved }()
	return d.pruneFix(f, true, true)
}
