package migrate

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// memTarget is the layout version v reads newest ("" when v has no memory
// manager).
func memTarget(v compat.Version, gates compat.Gates) string {
	switch {
	case v.Minor <= 20:
		return ""
	case v.Minor <= 35:
		return memorymanager.FormatV1
	case v.Minor == 36 && gates.On(compat.PodLevelResourceManagers, v):
		return memorymanager.FormatV2
	case v.Minor == 36:
		return memorymanager.FormatV1
	default:
		return memorymanager.FormatV3
	}
}

func planMemory(p *Plan, res check.Result, opts Options) ([]string, error) {
	c, ok := res.Content.(*memorymanager.Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content", ErrSourceUnreadable)
	}
	target := memTarget(opts.To, opts.Gates)
	if target == "" {
		return nil, fmt.Errorf("%w: kubelet %s has no memory manager", ErrUnsupported, opts.To)
	}
	p.To = target
	s := clone(c.State)
	var lost []string
	if opts.Policy != "" {
		pl, err := changeMemoryPolicy(&s, opts.Policy)
		if err != nil {
			return nil, err
		}
		lost = append(lost, pl...)
		if s.PolicyName != c.PolicyName {
			p.Changes = append(p.Changes, fmt.Sprintf("policy %q -> %q: a fresh %s state (kubelet fills the machine state at start)",
				c.PolicyName, s.PolicyName, s.PolicyName))
		}
	}
	if target == memorymanager.FormatV1 && len(s.PodEntries) > 0 {
		for _, pod := range sortedKeys(s.PodEntries) {
			lost = append(lost, fmt.Sprintf("pod-level memory blocks of pod %s (%s)", pod, describeBlocks(s.PodEntries[pod].MemoryBlocks)))
		}
		s.PodEntries = nil
	}
	var err error
	switch target {
	case memorymanager.FormatV1:
		p.Data, err = memorymanager.EncodeV1(&s)
	case memorymanager.FormatV2:
		p.Data, err = memorymanager.EncodeV2(&s)
	default:
		p.Data, err = memorymanager.Encode(&s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResult, err)
	}
	if res.Format != target {
		p.Changes = append(p.Changes, fmt.Sprintf("layout %s -> %s", strings.ToUpper(res.Format), strings.ToUpper(target)))
	}
	return lost, nil
}

func describeBlocks(bs []memorymanager.Block) string {
	var parts []string
	for _, b := range bs {
		parts = append(parts, fmt.Sprintf("%s %d bytes on NUMA %v", b.Type, b.Size, b.NUMAAffinity))
	}
	return strings.Join(parts, ", ")
}

// changeMemoryPolicy resets the state for a new memory manager policy
// ("None" or "Static"; case-insensitive input). Static -> None drops every
// assignment, returned as loss.
func changeMemoryPolicy(s *memorymanager.State, policy string) ([]string, error) {
	switch strings.ToLower(policy) {
	case "none":
		policy = "None"
	case "static":
		policy = "Static"
	default:
		return nil, fmt.Errorf("%w: memory manager policy %q (want None or Static)", ErrPolicy, policy)
	}
	if s.PolicyName == policy {
		return nil, nil
	}
	var lost []string
	for _, pod := range sortedKeys(s.Entries) {
		for _, ctr := range sortedKeys(s.Entries[pod]) {
			lost = append(lost, fmt.Sprintf("memory blocks of %s/%s (%s)", pod, ctr, describeBlocks(s.Entries[pod][ctr])))
		}
	}
	for _, pod := range sortedKeys(s.PodEntries) {
		lost = append(lost, fmt.Sprintf("pod-level memory blocks of pod %s", pod))
	}
	// An empty machine state and no assignments is what kubelet starts a
	// new node with; the static policy then builds the machine state.
	*s = memorymanager.State{PolicyName: policy, MachineState: memorymanager.NUMANodeMap{}}
	return lost, nil
}
