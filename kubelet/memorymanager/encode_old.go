package memorymanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// ErrNotRepresentable is wrapped by EncodeV1 when the state holds pod-level
// entries, which V1 has no place for: the encoder never drops state
// silently; the caller decides (kubelet/migrate, with --allow-loss).
var ErrNotRepresentable = errors.New("state not representable in this layout")

// EncodeV1 returns a V1 file as kubelet 1.21-1.36 write it, hashed under the
// type name MemoryManagerCheckpoint (accepted by 1.21-1.37). s must have no
// pod-level entries.
func EncodeV1(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	if len(s.PodEntries) > 0 {
		pods := make([]string, 0, len(s.PodEntries))
		for p := range s.PodEntries {
			pods = append(pods, p)
		}
		sort.Strings(pods)
		return nil, fmt.Errorf("%w: V1 has no place for the pod-level entries of %v", ErrNotRepresentable, pods)
	}
	cp := state.MemoryManagerCheckpointV1{PolicyName: s.PolicyName, MachineState: s.MachineState, Entries: s.Entries}
	sum, err := legacySum(&cp)
	if err != nil {
		return nil, err
	}
	cp.Checksum = sum
	return marshalMem(&cp)
}

// EncodeV2 returns a V2 file as kubelet 1.36 with PodLevelResourceManagers
// writes it, hashed under the type name MemoryManagerCheckpoint (accepted
// by 1.36 with the gate and by 1.37).
func EncodeV2(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	cp := state.MemoryManagerCheckpointV2{PolicyName: s.PolicyName, MachineState: s.MachineState, Entries: s.Entries,
		PodEntries: s.PodEntries}
	b, err := marshalMem(&cp)
	if err != nil {
		return nil, err
	}
	// Hash what a reader decodes from these bytes into its constructor-made
	// struct (nil versus empty as it will see them).
	seen := state.NewV2()
	if err := json.Unmarshal(b, seen); err != nil {
		return nil, fmt.Errorf("re-read memory manager V2: %w", err)
	}
	cp.Checksum = checksum.Sum([]byte(state.Text(state.RuleV2Legacy, seen)))
	return marshalMem(&cp)
}

func marshalMem(v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode memory manager checkpoint: %w", err)
	}
	return out, nil
}
