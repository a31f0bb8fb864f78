package memorymanager

import "github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"

// The checksum rules Examine reports in check.Checksum.Rule, exported so
// that callers (kubelet/compat, kubelet/migrate) can tell which variant a
// file verified under. Each says which kubelet versions accept a checksum
// computed that way (FORMATS.md §3.2).
const (
	// RuleV1 is the V1 checksum under the type name
	// MemoryManagerCheckpoint: written by 1.21-1.36, accepted by 1.21-1.37.
	RuleV1 = string(state.RuleV1Legacy)
	// RuleV1Named is the V1 checksum under the real name
	// MemoryManagerCheckpointV1: accepted only by 1.36 with
	// PodLevelResourceManagers off.
	RuleV1Named = string(state.RuleV1Named)
	// RuleV2 is the V2 checksum under the type name
	// MemoryManagerCheckpoint, as 1.36 writes it: accepted by 1.36 with
	// PodLevelResourceManagers and by 1.37.
	RuleV2 = string(state.RuleV2Legacy)
	// RuleV3Data is V3's dataChecksum: what 1.37 verifies.
	RuleV3Data = string(state.RuleV3Data)
	// RuleV3Legacy is V3's top-level checksum of the embedded V1 block:
	// what 1.35 and 1.36 verify (the V1 rule).
	RuleV3Legacy = string(state.RuleV3Legacy)
)
