package migrate

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// cpuTarget is the layout version v reads newest.
func cpuTarget(v compat.Version, gates compat.Gates) string {
	switch {
	case v.Minor <= 17:
		return cpumanager.FormatV1
	case v.Minor <= 35:
		return cpumanager.FormatV2
	case v.Minor == 36 && gates.On(compat.PodLevelResourceManagers, v):
		return cpumanager.FormatV3
	case v.Minor == 36:
		return cpumanager.FormatV2
	default:
		return cpumanager.FormatV4
	}
}

func planCPU(p *Plan, res check.Result, opts Options) ([]string, error) {
	c, ok := res.Content.(*cpumanager.Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content", ErrSourceUnreadable)
	}
	s := clone(c.State)
	var lost []string
	target := cpuTarget(opts.To, opts.Gates)

	// A V1 file: entries keyed by container ID become pod entries (unless
	// V1 is written again, and the policy stays).
	policyChanges := opts.Policy != "" && !strings.EqualFold(opts.Policy, c.PolicyName)
	if len(c.ContainerEntries) > 0 && target == cpumanager.FormatV1 && !policyChanges {
		p.To = target
		var err error
		p.Data, err = cpumanager.EncodeV1(c.PolicyName, c.DefaultCPUSet, c.ContainerEntries)
		return nil, err
	}
	if len(c.ContainerEntries) > 0 && policyChanges {
		// The new policy starts from a fresh state: the V1 entries go,
		// whatever pods they belong to.
		for _, id := range sortedKeys(c.ContainerEntries) {
			lost = append(lost, fmt.Sprintf("exclusive CPUs %s of container %s", c.ContainerEntries[id], id))
		}
	} else if len(c.ContainerEntries) > 0 {
		entries, err := v1ToPods(c.ContainerEntries, opts.Containers)
		if err != nil {
			return nil, err
		}
		s.Entries = entries
		p.Changes = append(p.Changes, fmt.Sprintf("%d V1 entries keyed by container ID mapped to pod/container",
			len(c.ContainerEntries)))
	}

	if opts.Policy != "" {
		pl, err := changeCPUPolicy(&s, opts.Policy)
		if err != nil {
			return nil, err
		}
		lost = append(lost, pl...)
		if s.PolicyName != c.PolicyName {
			p.Changes = append(p.Changes, fmt.Sprintf("policy %q -> %q: a fresh %s state (kubelet fills the default set at start)",
				c.PolicyName, s.PolicyName, s.PolicyName))
		}
	}

	p.To = target
	if target != cpumanager.FormatV4 && len(s.Baselines) > 0 {
		for _, pod := range sortedKeys(s.Baselines) {
			for _, ctr := range sortedKeys(s.Baselines[pod]) {
				lost = append(lost, fmt.Sprintf("baseline cpuset of %s/%s (%s)", pod, ctr, s.Baselines[pod][ctr]))
			}
		}
		s.Baselines = nil
	}
	if (target == cpumanager.FormatV1 || target == cpumanager.FormatV2) && len(s.PodEntries) > 0 {
		freed, err := dropPodEntries(&s)
		if err != nil {
			return nil, err
		}
		for _, pod := range sortedKeys(s.PodEntries) {
			lost = append(lost, fmt.Sprintf("pod-level CPU assignment of pod %s (%s)", pod, s.PodEntries[pod]))
		}
		if freed != "" {
			p.Changes = append(p.Changes, fmt.Sprintf("CPUs %s of the dropped pod-level assignments go back to the default "+
				"set, so that kubelet %s's static policy finds every CPU accounted for", freed, opts.To))
		}
		s.PodEntries = nil
	}

	var err error
	switch target {
	case cpumanager.FormatV1:
		var ids map[string]string
		ids, err = podsToV1(s.Entries, opts.Containers)
		if err != nil {
			return nil, err
		}
		p.Data, err = cpumanager.EncodeV1(s.PolicyName, s.DefaultCPUSet, ids)
	case cpumanager.FormatV2:
		p.Data, err = cpumanager.EncodeV2(&s)
	case cpumanager.FormatV3:
		p.Data, err = cpumanager.EncodeV3(&s)
	default:
		p.Data, err = cpumanager.Encode(&s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResult, err)
	}
	if res.Format != target {
		p.Changes = append(p.Changes, fmt.Sprintf("layout %s -> %s", strings.ToUpper(res.Format), strings.ToUpper(target)))
	}
	return lost, nil
}

// v1ToPods maps V1 entries to pods through the container map.
func v1ToPods(entries map[string]string, refs map[string]ContainerRef) (map[string]map[string]string, error) {
	if refs == nil {
		return nil, &ContainersError{Missing: sortedKeys(entries), NoMap: true}
	}
	var missing []string
	out := map[string]map[string]string{}
	for _, id := range sortedKeys(entries) {
		ref, ok := refs[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		if out[ref.PodUID] == nil {
			out[ref.PodUID] = map[string]string{}
		}
		out[ref.PodUID][ref.ContainerName] = entries[id]
	}
	if len(missing) > 0 {
		return nil, &ContainersError{Missing: missing}
	}
	return out, nil
}

// podsToV1 keys pod entries by container ID, for kubelet <= 1.17.
func podsToV1(entries map[string]map[string]string, refs map[string]ContainerRef) (map[string]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	byRef := map[ContainerRef]string{}
	for id, ref := range refs {
		byRef[ref] = id
	}
	var missing []string
	out := map[string]string{}
	for _, pod := range sortedKeys(entries) {
		for _, ctr := range sortedKeys(entries[pod]) {
			id, ok := byRef[ContainerRef{PodUID: pod, ContainerName: ctr}]
			if !ok {
				missing = append(missing, pod+"/"+ctr)
				continue
			}
			out[id] = entries[pod][ctr]
		}
	}
	if len(missing) > 0 {
		return nil, &ContainersError{Missing: missing, NoMap: refs == nil, ToV1: true}
	}
	return out, nil
}

// dropPodEntries returns the CPUs of the pod-level sets that no container
// holds to the default set (a reader without pod-level entries must find
// every CPU in the default set or an assignment), and reports them.
func dropPodEntries(s *cpumanager.State) (string, error) {
	def, err := cpuset.Parse(s.DefaultCPUSet)
	if err != nil {
		return "", fmt.Errorf("%w: default set: %w", ErrSourceUnreadable, err)
	}
	var hb cpuset.Builder
	for _, ctrs := range s.Entries {
		for _, set := range ctrs {
			cs, err := cpuset.Parse(set)
			if err != nil {
				return "", fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
			}
			hb.AddSet(cs)
		}
	}
	held := hb.Set()
	freed := cpuset.New()
	for _, set := range s.PodEntries {
		cs, err := cpuset.Parse(set)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
		}
		freed = freed.Union(cs.Difference(held).Difference(def))
	}
	if freed.IsEmpty() {
		return "", nil
	}
	s.DefaultCPUSet = def.Union(freed).String()
	return freed.String(), nil
}

// changeCPUPolicy resets the state for a new CPU manager policy. A "none"
// state holds no exclusive CPUs, so none -> static loses nothing; static ->
// none drops every exclusive assignment, which is returned as loss.
func changeCPUPolicy(s *cpumanager.State, policy string) ([]string, error) {
	policy = strings.ToLower(policy)
	if policy != "none" && policy != "static" {
		return nil, fmt.Errorf("%w: cpu manager policy %q (want none or static)", ErrPolicy, policy)
	}
	if s.PolicyName == policy {
		return nil, nil
	}
	var lost []string
	for _, pod := range sortedKeys(s.Entries) {
		for _, ctr := range sortedKeys(s.Entries[pod]) {
			lost = append(lost, fmt.Sprintf("exclusive CPUs %s of %s/%s", s.Entries[pod][ctr], pod, ctr))
		}
	}
	for _, pod := range sortedKeys(s.PodEntries) {
		lost = append(lost, fmt.Sprintf("exclusive pod-level CPUs %s of pod %s", s.PodEntries[pod], pod))
	}
	// An empty default set and no assignments is the state kubelet
	// creates for a new node: the static policy then puts every CPU in
	// the default set at start, the none policy ignores it.
	*s = cpumanager.State{PolicyName: policy}
	return lost, nil
}
