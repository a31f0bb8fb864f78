package memorymanager

import (
	"encoding/json"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// Decode returns the state a memory_manager_state file holds, in any layout
// (v1, v2, v3), after the checks Examine makes: it fails, with the error
// Examine reports, unless the verdict is valid or unverified. Files as
// kubelet 1.37 writes them take a fast path (decode_fast.go) that reads
// them once and verifies both checksums; anything else goes through Examine.
func Decode(data []byte) (*State, error) {
	if s, ok := decodeFast(data); ok {
		return s, nil
	}
	return decodeSlow(data)
}

// decodeSlow is Decode by way of Examine: the reference that decodeFast
// may only agree with, and the source of every error.
func decodeSlow(data []byte) (*State, error) {
	res := Examine(data)
	if res.Err != nil {
		return nil, res.Err
	}
	c, ok := res.Content.(*Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content decoded", check.ErrInvalid)
	}
	s := c.State
	return &s, nil
}

// Encode returns the bytes kubelet v1.37.2 writes for s: the v3 layout with
// the embedded v1 block (policy, machine state, container entries) and its
// legacy checksum, the data string (json.Marshal of s) and its checksum, as
// compact JSON with no trailing newline. Nil and empty maps and slices are
// written as they are (null versus {} or []), as kubelet writes them.
func Encode(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	if out, ok := encodeFast(s); ok {
		return out, nil
	}
	return encodeSlow(s)
}

// encodeSlow is Encode through encoding/json: the reference encodeFast
// must match byte for byte, and the path for states it declines.
func encodeSlow(s *State) ([]byte, error) {
	dataJSON, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode memory manager data: %w", err)
	}
	legacy := state.MemoryManagerCheckpointV1{PolicyName: s.PolicyName, MachineState: s.MachineState, Entries: s.Entries}
	sum, err := legacySum(&legacy)
	if err != nil {
		return nil, err
	}
	legacy.Checksum = sum
	cp := state.MemoryManagerCheckpoint{
		MemoryManagerCheckpointV1: legacy,
		Data:                      string(dataJSON),
		DataChecksum:              checksum.OfString(string(dataJSON)),
	}
	out, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("encode memory manager checkpoint: %w", err)
	}
	return out, nil
}

// legacySum computes the V1 checksum of the block as a 1.35/1.36 reader
// will see it: the block is written to JSON and decoded into the reader's
// constructor-made struct, so that nil-versus-empty (an omitted "entries"
// becomes `map[]`) is exactly what that reader hashes.
func legacySum(v *state.MemoryManagerCheckpointV1) (checksum.Checksum, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode memory manager legacy block: %w", err)
	}
	seen := state.NewV1()
	if err := json.Unmarshal(b, seen); err != nil {
		return 0, fmt.Errorf("re-read memory manager legacy block: %w", err)
	}
	return checksum.Sum([]byte(state.Text(state.RuleV3Legacy, seen))), nil
}
