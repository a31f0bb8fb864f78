// Package state declares the memory manager checkpoint layouts with kubelet's
// Go package name ("state"), type names, field names, field order and field
// types, so that their checksum text is kubelet's by construction, and holds
// kubelet's checksum rules for them.
//
// Kubelet's package pkg/kubelet/cm/memorymanager/state declares these types;
// the names here are those of kubelet 1.37 (V1 and V2 carry a version
// suffix; kubelet 1.21 to 1.35 named V1 MemoryManagerCheckpoint, and 1.36
// hashed V1 and V2 under that name).
package state

import (
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	v1 "github.com/ckptkit/ckpt/kubelet/internal/k8s/v1"
)

// LegacyName is the type name every replacement rule substitutes.
const LegacyName = "MemoryManagerCheckpoint"

// MemoryTable is the memory of one resource on one NUMA node, in bytes.
type MemoryTable struct {
	TotalMemSize   uint64 `json:"total"`
	SystemReserved uint64 `json:"systemReserved"`
	Allocatable    uint64 `json:"allocatable"`
	Reserved       uint64 `json:"reserved"`
	Free           uint64 `json:"free"`
}

// NUMANodeState is the memory state of one NUMA node.
type NUMANodeState struct {
	NumberOfAssignments int                              `json:"numberOfAssignments"`
	MemoryMap           map[v1.ResourceName]*MemoryTable `json:"memoryMap"`
	Cells               []int                            `json:"cells"`
}

// NUMANodeMap maps a NUMA node id to its state.
type NUMANodeMap map[int]*NUMANodeState

// Block is memory of one resource assigned on a set of NUMA nodes.
type Block struct {
	NUMAAffinity []int           `json:"numaAffinity"`
	Type         v1.ResourceName `json:"type"`
	Size         uint64          `json:"size"`
}

// ContainerMemoryAssignments maps pod UID to container name to its blocks.
type ContainerMemoryAssignments map[string]map[string][]Block

// PodEntry is the pod-level assignment of one pod.
type PodEntry struct {
	MemoryBlocks []Block `json:"memoryBlocks,omitempty"`
}

// PodMemoryAssignments maps pod UID to its pod-level assignment.
type PodMemoryAssignments map[string]PodEntry

// MemoryManagerCheckpointV1 is the layout of kubelet 1.21 to 1.35, kept
// embedded in V3 so that they can still read the file.
type MemoryManagerCheckpointV1 struct {
	PolicyName   string                     `json:"policyName"`
	MachineState NUMANodeMap                `json:"machineState"`
	Entries      ContainerMemoryAssignments `json:"entries,omitempty"`
	Checksum     checksum.Checksum          `json:"checksum"`
}

// MemoryManagerCheckpointV2 is the layout of kubelet 1.36 with the
// PodLevelResourceManagers gate: V1 plus pod-level blocks.
type MemoryManagerCheckpointV2 struct {
	PolicyName   string                     `json:"policyName"`
	MachineState NUMANodeMap                `json:"machineState"`
	Entries      ContainerMemoryAssignments `json:"entries,omitempty"`
	PodEntries   PodMemoryAssignments       `json:"podEntries,omitempty"`
	Checksum     checksum.Checksum          `json:"checksum"`
}

// MemoryManagerCheckpoint is kubelet 1.37's V3 layout: the V1 layout inlined,
// then the authoritative state as a JSON string and its checksum.
type MemoryManagerCheckpoint struct {
	MemoryManagerCheckpointV1
	Data         string            `json:"data"`
	DataChecksum checksum.Checksum `json:"dataChecksum"`
}

// MemoryManagerCheckpointData is what V3's data string holds, in kubelet's
// field order and with its tags.
type MemoryManagerCheckpointData struct {
	PolicyName   string                     `json:"policyName"`
	MachineState NUMANodeMap                `json:"machineState"`
	Entries      ContainerMemoryAssignments `json:"entries,omitempty"`
	PodEntries   PodMemoryAssignments       `json:"podEntries,omitempty"`
}

// NewV1 returns an empty V1 checkpoint as kubelet's constructor makes it:
// made maps, so that absent keys hash as `map[]` (an explicit null hashes as
// `<nil>`).
func NewV1() *MemoryManagerCheckpointV1 {
	return &MemoryManagerCheckpointV1{
		MachineState: make(NUMANodeMap),
		Entries:      make(ContainerMemoryAssignments),
	}
}

// NewV2 returns an empty V2 checkpoint as kubelet's constructor makes it.
func NewV2() *MemoryManagerCheckpointV2 {
	return &MemoryManagerCheckpointV2{
		MachineState: make(NUMANodeMap),
		Entries:      make(ContainerMemoryAssignments),
		PodEntries:   make(PodMemoryAssignments),
	}
}

// NewV3 returns an empty V3 checkpoint as kubelet's constructor makes it.
func NewV3() *MemoryManagerCheckpoint {
	return &MemoryManagerCheckpoint{MemoryManagerCheckpointV1: *NewV1()}
}

// Rule identifies one way kubelet computes a memory manager checksum. Its
// string is the name the test vectors' manifest uses.
type Rule string

// The checksum rules, with the kubelet versions that accept each.
const (
	// RuleV1Legacy: V1 hashed under the name MemoryManagerCheckpoint (written
	// by 1.21-1.36, accepted by all).
	RuleV1Legacy Rule = "mem.v1(legacy-name)"
	// RuleV1Named: V1 hashed under its real name MemoryManagerCheckpointV1
	// (accepted by 1.36 with PodLevelResourceManagers off, which tries it
	// first).
	RuleV1Named Rule = "mem.v1(named MemoryManagerCheckpointV1)"
	// RuleV2Legacy: V2 hashed under the name MemoryManagerCheckpoint
	// (written by 1.36 with PodLevelResourceManagers; read by it and 1.37).
	RuleV2Legacy Rule = "mem.v2(legacy-name, as written by 1.36)"
	// RuleV3Data: V3's dataChecksum, the checksum of the data string.
	RuleV3Data Rule = "mem.v3(dataChecksum over data string)"
	// RuleV3Legacy: V3's top-level checksum, the V1 legacy-name hash of the
	// embedded V1 part.
	RuleV3Legacy Rule = "mem.v3(embedded v1 legacy checksum)"
)

// Text returns the exact text kubelet hashes for cp under rule, with the
// stored checksum zeroed. It returns "" when rule does not apply to cp's
// layout. cp is not modified.
func Text(rule Rule, cp any) string {
	switch c := cp.(type) {
	case *MemoryManagerCheckpointV1:
		v := *c
		v.Checksum = 0
		switch rule {
		case RuleV1Legacy, RuleV3Legacy:
			return strings.Replace(checksum.Text(&v), "MemoryManagerCheckpointV1", LegacyName, 1)
		case RuleV1Named:
			return checksum.Text(&v)
		}
	case *MemoryManagerCheckpointV2:
		if rule == RuleV2Legacy {
			v := *c
			v.Checksum = 0
			return strings.Replace(checksum.Text(&v), "MemoryManagerCheckpointV2", LegacyName, 1)
		}
	}
	return ""
}
