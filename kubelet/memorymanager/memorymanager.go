// Package memorymanager reads, verifies and writes kubelet's memory manager
// checkpoint, memory_manager_state, in every layout kubelet has written.
//
// The layouts (FORMATS.md §3.2), with the Format names Examine reports:
//
//	v1  kubelet 1.21-1.35: policy, per-NUMA machine state, container blocks;
//	    one spew checksum
//	v2  kubelet 1.36 with PodLevelResourceManagers: v1 + podEntries
//	v3  kubelet 1.37: the v1 block (for 1.35/1.36 readers) + a JSON data
//	    string + dataChecksum over that string
//
// Verdicts follow these rules, in order:
//
//  1. Bytes that are not one JSON object of a memory manager layout, and a
//     v3 data string that is not JSON, are invalid.
//  2. A checksum that does not match makes the file corrupt. In v3 both
//     checksums count: kubelet 1.37 reads data, but 1.35 and 1.36 read the
//     embedded v1 block (ErrLegacyChecksum).
//  3. Checksum 0: kubelet 1.36 and later accept it for the v1 layout
//     (unverified; 1.35 and older reject it). The v2 and v3 layouts never
//     accept it: a v2 file with pod entries and checksum 0 is corrupt
//     (ErrZeroChecksum), because kubelet 1.37 then loads it through v1 and
//     silently drops the pod entries.
//  4. Otherwise the file is valid. Memory accounting that does not add up
//     (reserved + free != allocatable, reserved != the blocks assigned) is
//     reported as Notes and does not change the verdict.
package memorymanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	v1 "github.com/ckptkit/ckpt/kubelet/internal/k8s/v1"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// The Format names Examine reports.
const (
	FormatV1 = "v1"
	FormatV2 = "v2"
	FormatV3 = "v3"
)

// Errors wrapped by check.Result.Err (besides check.ErrInvalid and
// check.ErrCorrupt), for errors.Is.
var (
	// ErrLegacyChecksum: a v3 file's embedded v1 block fails its checksum,
	// so kubelet 1.35 and 1.36 report the checkpoint corrupted.
	ErrLegacyChecksum = errors.New("checksum of the embedded V1 block")
	// ErrDataChecksum: a v3 file's dataChecksum does not match its data.
	ErrDataChecksum = errors.New("dataChecksum of the data string")
	// ErrChecksum: a v1 or v2 file's checksum matches no variant.
	ErrChecksum = errors.New("no checksum variant matches")
	// ErrZeroChecksum: checksum 0 in a layout that does not accept it, or
	// where accepting it through v1 drops pod-level entries.
	ErrZeroChecksum = errors.New("checksum 0 not accepted")
)

// State is the memory manager state kubelet restores, in the shape of
// kubelet 1.37's data string (MemoryManagerCheckpointData). It is an alias of
// a type declared with kubelet's package and type names, because those names
// are part of the checksum.
type State = state.MemoryManagerCheckpointData

// Types of State's fields, named for callers.
type (
	// NUMANodeMap maps a NUMA node id to its state.
	NUMANodeMap = state.NUMANodeMap
	// NUMANodeState is the memory state of one NUMA node.
	NUMANodeState = state.NUMANodeState
	// MemoryTable is the memory of one resource on one NUMA node, in bytes.
	MemoryTable = state.MemoryTable
	// ContainerMemoryAssignments maps pod UID to container to its blocks.
	ContainerMemoryAssignments = state.ContainerMemoryAssignments
	// PodMemoryAssignments maps pod UID to its pod-level blocks.
	PodMemoryAssignments = state.PodMemoryAssignments
	// PodEntry holds the pod-level blocks of one pod.
	PodEntry = state.PodEntry
	// Block is memory of one resource assigned on a set of NUMA nodes.
	Block = state.Block
	// ResourceName names a resource ("memory", "hugepages-1Gi").
	ResourceName = v1.ResourceName
)

// Content is what Examine reports as check.Result.Content.
type Content struct {
	State
	// Legacy is v3's embedded v1 block, what kubelet 1.35 and 1.36 read.
	Legacy *Legacy `json:"legacy,omitempty"`
}

// Legacy is the v1 block a v3 file embeds for kubelet 1.35 and 1.36.
type Legacy struct {
	PolicyName   string                     `json:"policyName"`
	MachineState NUMANodeMap                `json:"machineState"`
	Entries      ContainerMemoryAssignments `json:"entries,omitempty"`
}

// Sniff reports whether data looks like a memory manager checkpoint: a JSON
// object with a "machineState" key (matched case-insensitively, as Go's
// encoding/json matches it). It reads top-level keys only and never panics.
func Sniff(data []byte) bool {
	return hasTopKey(data, "machineState")
}

func hasTopKey(data []byte, key string) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, ok := t.(string)
		if !ok {
			return false
		}
		if strings.EqualFold(k, key) {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}
