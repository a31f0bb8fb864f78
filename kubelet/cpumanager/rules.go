package cpumanager

import "github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"

// The checksum rules Examine reports in check.Checksum.Rule, exported so
// that callers (kubelet/compat, kubelet/migrate) can tell which variant a
// file verified under without parsing descriptions. Each says which kubelet
// versions accept a checksum computed that way (FORMATS.md §3.1).
const (
	// RuleV1 is the V1 checksum under the type name CPUManagerCheckpoint:
	// written by kubelet <= 1.17, verified so by 1.18-1.36.
	RuleV1 = string(state.RuleV1Legacy)
	// RuleV2 is the V2 checksum under the type name CPUManagerCheckpoint:
	// written by 1.18-1.36, accepted by 1.18-1.37.
	RuleV2 = string(state.RuleV2Legacy)
	// RuleV2Named is the V2 checksum under the real name
	// CPUManagerCheckpointV2: accepted only by 1.36 and 1.37 with
	// PodLevelResourceManagers off.
	RuleV2Named = string(state.RuleV2Named)
	// RuleV3 is the V3 checksum under the type name CPUManagerCheckpoint,
	// as 1.36 writes it: accepted by 1.36 with PodLevelResourceManagers and
	// by 1.37.
	RuleV3 = string(state.RuleV3Legacy)
	// RuleV3Named is the V3 checksum under the real name
	// CPUManagerCheckpointV3: accepted by 1.37 only.
	RuleV3Named = string(state.RuleV3Named)
	// RuleV4Data is V4's dataChecksum: what 1.37 verifies.
	RuleV4Data = string(state.RuleV4Data)
	// RuleV4Legacy is V4's top-level checksum of the embedded V2 block:
	// what 1.35 and 1.36 verify (the V2 rule).
	RuleV4Legacy = string(state.RuleV4Legacy)
)
