package cpumanager

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// ErrNotRepresentable is wrapped by the older-layout encoders when the state
// holds something the layout has no place for (pod-level entries in V1/V2,
// baselines before V4): they never drop state silently. The caller decides
// what to drop (kubelet/migrate, with --allow-loss) and encodes the rest.
var ErrNotRepresentable = errors.New("state not representable in this layout")

// EncodeV1 returns a V1 file (kubelet <= 1.17): entries map a container ID
// to its cpuset, hashed under the type name CPUManagerCheckpoint as those
// kubelets (and 1.18-1.36 verifying V1) compute it. Cpusets are normalised
// to kubelet's list syntax.
func EncodeV1(policyName, defaultCPUSet string, containerEntries map[string]string) ([]byte, error) {
	def, err := canonical(defaultCPUSet, "default CPU set")
	if err != nil {
		return nil, err
	}
	cp := state.NewV1()
	cp.PolicyName, cp.DefaultCPUSet = policyName, def
	for _, id := range sortedKeys(containerEntries) {
		if cp.Entries[id], err = canonical(containerEntries[id], fmt.Sprintf("container id %q", id)); err != nil {
			return nil, err
		}
	}
	cp.Checksum = checksum.Sum([]byte(state.Text(state.RuleV1Legacy, cp)))
	return marshal(cp)
}

// EncodeV2 returns a V2 file as kubelet 1.18-1.36 write it, hashed under the
// type name CPUManagerCheckpoint (the variant every kubelet 1.18-1.37
// accepts). s must have no pod-level entries or baselines (an error
// wrapping ErrNotRepresentable names them).
func EncodeV2(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	if err := notIn(s, "V2", true); err != nil {
		return nil, err
	}
	cp, err := v2Of(s)
	if err != nil {
		return nil, err
	}
	cp.Checksum = checksum.Sum([]byte(state.Text(state.RuleV2Legacy, cp)))
	return marshal(cp)
}

// EncodeV3 returns a V3 file as kubelet 1.36 with PodLevelResourceManagers
// writes it: V2 plus podEntries ({"cpuSet":"..."}), hashed as the struct
// (the pod-level cpusets as kubelet's CPUSet value) under the type name
// CPUManagerCheckpoint, which 1.36 with the gate and 1.37 accept. s must have
// no baselines.
func EncodeV3(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	if err := notIn(s, "V3", false); err != nil {
		return nil, err
	}
	v2, err := v2Of(s)
	if err != nil {
		return nil, err
	}
	cp := state.NewV3()
	cp.PolicyName, cp.DefaultCPUSet, cp.Entries = v2.PolicyName, v2.DefaultCPUSet, v2.Entries
	wire := v3Wire{PolicyName: cp.PolicyName, DefaultCPUSet: cp.DefaultCPUSet, Entries: cp.Entries}
	if len(s.PodEntries) > 0 {
		wire.PodEntries = make(map[string]state.PodEntryJSON, len(s.PodEntries))
	}
	for pod, set := range s.PodEntries {
		cs, err := cpuset.Parse(set)
		if err != nil {
			return nil, fmt.Errorf("%w: pod %q: %w", ErrCPUSet, pod, err)
		}
		cp.PodEntries[pod] = state.PodEntry{CPUSet: cs}
		wire.PodEntries[pod] = state.PodEntryJSON{CPUSet: cs.String()}
	}
	// The checksum is what a reader computes after decoding these bytes
	// into its constructor-made struct: re-read them to get nil versus
	// empty exactly as it will.
	probe, err := marshal(&wire)
	if err != nil {
		return nil, err
	}
	seen, err := decodeV3Wire(probe)
	if err != nil {
		return nil, err
	}
	v3, err := buildV3(seen)
	if err != nil {
		return nil, err
	}
	wire.Checksum = checksum.Sum([]byte(state.Text(state.RuleV3Legacy, v3)))
	return marshal(&wire)
}

// v2Of builds the V2 struct of s with canonical cpusets.
func v2Of(s *State) (*state.CPUManagerCheckpointV2, error) {
	def, err := canonical(s.DefaultCPUSet, "default CPU set")
	if err != nil {
		return nil, err
	}
	cp := state.NewV2()
	cp.PolicyName, cp.DefaultCPUSet = s.PolicyName, def
	for pod, ctrs := range s.Entries {
		m := make(map[string]string, len(ctrs))
		for ctr, set := range ctrs {
			if m[ctr], err = canonical(set, fmt.Sprintf("container %q in pod %q", ctr, pod)); err != nil {
				return nil, err
			}
		}
		cp.Entries[pod] = m
	}
	return cp, nil
}

// notIn reports state that layout cannot hold.
func notIn(s *State, layout string, noPodEntries bool) error {
	var what []string
	if noPodEntries && len(s.PodEntries) > 0 {
		what = append(what, fmt.Sprintf("pod-level entries of %v", sortedKeys(s.PodEntries)))
	}
	if len(s.Baselines) > 0 {
		what = append(what, fmt.Sprintf("baselines of %v", sortedKeys(s.Baselines)))
	}
	if len(what) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s has no place for %v", ErrNotRepresentable, layout, what)
}

func marshal(v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode cpu manager checkpoint: %w", err)
	}
	return out, nil
}
