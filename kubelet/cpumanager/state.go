package cpumanager

import (
	"fmt"
	"maps"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// State is the cpu manager state kubelet 1.37 restores, in the shape of its
// V4 data string. Every cpuset is in kubelet's list syntax ("0-3,7").
type State struct {
	// PolicyName is the CPU manager policy ("none" or "static").
	PolicyName string `json:"policyName"`
	// DefaultCPUSet is the shared pool.
	DefaultCPUSet string `json:"defaultCpuSet"`
	// Entries maps pod UID to container name to its exclusive cpuset.
	Entries map[string]map[string]string `json:"entries,omitempty"`
	// PodEntries maps pod UID to its pod-level cpuset (kubelet 1.36+ with
	// PodLevelResourceManagers).
	PodEntries map[string]string `json:"podEntries,omitempty"`
	// Baselines maps pod UID to container name to its baseline cpuset
	// (kubelet 1.37 with in-place resize of exclusive CPUs).
	Baselines map[string]map[string]string `json:"baselines,omitempty"`
}

// Content is what Examine reports as check.Result.Content: the state the
// file holds, plus what only some layouts carry.
type Content struct {
	State
	// ContainerEntries maps container ID to cpuset: the V1 layout
	// (kubelet <= 1.17) in place of Entries.
	ContainerEntries map[string]string `json:"containerEntries,omitempty"`
	// Legacy is V4's embedded V2 block, what kubelet 1.35 and 1.36 read.
	Legacy *Legacy `json:"legacy,omitempty"`
}

// Legacy is the V2 block a V4 file embeds for kubelet 1.35 and 1.36.
type Legacy struct {
	PolicyName    string                       `json:"policyName"`
	DefaultCPUSet string                       `json:"defaultCpuSet"`
	Entries       map[string]map[string]string `json:"entries,omitempty"`
}

// Decode returns the state a cpu_manager_state file holds, in any layout
// kubelet 1.37 restores (V2, V3, V4), after the checks Examine makes: it
// fails, with the error Examine reports, unless the verdict is valid or
// unverified. A V1 file (entries by container ID) fails with ErrV1Layout,
// since its entries need a container-ID map to become pod entries.
func Decode(data []byte) (*State, error) {
	if s, ok := decodeFast(data); ok {
		return s, nil
	}
	res := Examine(data)
	if res.Err != nil {
		return nil, res.Err
	}
	c, ok := res.Content.(*Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content decoded", check.ErrInvalid)
	}
	if res.Format == FormatV1 || c.ContainerEntries != nil {
		return nil, fmt.Errorf("%w: %d entries keyed by container ID", ErrV1Layout, len(c.ContainerEntries))
	}
	s := c.State
	return &s, nil
}

// Encode returns the bytes kubelet v1.37.2 writes for s: the V4 layout with
// the embedded V2 block (policy, default set, container entries) and its
// legacy checksum, the data string and its checksum, as compact JSON with
// no trailing newline. Every cpuset is normalised to kubelet's list syntax,
// as kubelet prints its in-memory sets; an unparsable one fails with an error
// wrapping ErrCPUSet.
func Encode(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	return encodeFast(s)
}

func canonical(set, where string) (string, error) {
	cs, err := cpuset.Parse(set)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrCPUSet, where, err)
	}
	return cs.String(), nil
}

// stateFromData converts a decoded V4 data string to State.
func stateFromData(d *state.CPUManagerCheckpointData) State {
	s := State{
		PolicyName:    d.PolicyName,
		DefaultCPUSet: d.DefaultCPUSet,
		Entries:       cloneEntries(d.Entries),
	}
	if d.PodEntries != nil {
		s.PodEntries = make(map[string]string, len(d.PodEntries))
		for pod, e := range d.PodEntries {
			s.PodEntries[pod] = e.CPUSet
		}
	}
	if d.Baselines != nil {
		s.Baselines = make(map[string]map[string]string, len(d.Baselines))
		for pod, ctrs := range d.Baselines {
			m := make(map[string]string, len(ctrs))
			for ctr, b := range ctrs {
				m[ctr] = b.Baseline
			}
			s.Baselines[pod] = m
		}
	}
	return s
}

func cloneEntries(e map[string]map[string]string) map[string]map[string]string {
	if e == nil {
		return nil
	}
	out := make(map[string]map[string]string, len(e))
	for pod, ctrs := range e {
		out[pod] = maps.Clone(ctrs)
	}
	return out
}
