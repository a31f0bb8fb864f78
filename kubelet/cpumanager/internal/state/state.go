// Package state declares the cpu manager checkpoint layouts with kubelet's
// Go package name ("state"), type names, field names, field order and field
// types, so that their checksum text is kubelet's by construction, and holds
// kubelet's checksum rules for them (which type-name replacement each kubelet
// version applies before hashing).
//
// Kubelet's package pkg/kubelet/cm/cpumanager/state declares these types; the
// names here are those of kubelet 1.37 (V1, V2 and V3 carry a version suffix;
// kubelet before 1.18 named the V1 layout CPUManagerCheckpoint, and 1.18 to
// 1.36 named V2 and then V3 that way).
package state

import (
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// LegacyName is the type name every replacement rule substitutes: the name
// the current layout had when each older kubelet hashed it.
const LegacyName = "CPUManagerCheckpoint"

// CPUManagerCheckpointV1 is the layout of kubelet <= 1.17: entries map a
// container ID to its cpuset.
type CPUManagerCheckpointV1 struct {
	PolicyName    string            `json:"policyName"`
	DefaultCPUSet string            `json:"defaultCpuSet"`
	Entries       map[string]string `json:"entries,omitempty"`
	Checksum      checksum.Checksum `json:"checksum"`
}

// CPUManagerCheckpointV2 is the layout of kubelet 1.18 to 1.36: entries map
// pod UID to container name to cpuset. Kubelet 1.37 embeds it in V4.
type CPUManagerCheckpointV2 struct {
	PolicyName    string                       `json:"policyName"`
	DefaultCPUSet string                       `json:"defaultCpuSet"`
	Entries       map[string]map[string]string `json:"entries,omitempty"`
	Checksum      checksum.Checksum            `json:"checksum"`
}

// CPUManagerCheckpointV3 is the layout of kubelet 1.36 with the
// PodLevelResourceManagers gate: V2 plus pod-level cpusets.
type CPUManagerCheckpointV3 struct {
	PolicyName    string                       `json:"policyName"`
	DefaultCPUSet string                       `json:"defaultCpuSet"`
	Entries       map[string]map[string]string `json:"entries,omitempty"`
	PodEntries    PodCPUAssignments            `json:"podEntries,omitempty"`
	Checksum      checksum.Checksum            `json:"checksum"`
}

// PodCPUAssignments maps a pod UID to its pod-level assignment.
type PodCPUAssignments map[string]PodEntry

// PodEntry is one pod-level assignment. Kubelet encodes it in JSON as
// {"cpuSet":"4-6"} but hashes the CPUSet struct with its unexported map, so
// this type has no JSON methods: callers decode the wire form (PodEntryJSON)
// and build it with cpuset.Parse.
type PodEntry struct {
	CPUSet cpuset.CPUSet `json:"cpuSet,omitempty"`
}

// PodEntryJSON is the JSON form of a PodEntry.
type PodEntryJSON struct {
	CPUSet string `json:"cpuSet,omitempty"`
}

// CPUManagerCheckpoint is kubelet 1.37's V4 layout: the V2 layout inlined
// (kept so that kubelet 1.35 and 1.36 can still read the file), then the
// authoritative state as a JSON string and that string's checksum.
type CPUManagerCheckpoint struct {
	CPUManagerCheckpointV2
	Data         string            `json:"data"`
	DataChecksum checksum.Checksum `json:"dataChecksum"`
}

// CPUManagerCheckpointData is what V4's data string holds, in kubelet's
// field order and with its tags.
type CPUManagerCheckpointData struct {
	PolicyName    string                             `json:"policyName"`
	DefaultCPUSet string                             `json:"defaultCpuSet"`
	Entries       map[string]map[string]string       `json:"entries,omitempty"`
	PodEntries    map[string]PodEntryJSON            `json:"podEntries,omitempty"`
	Baselines     map[string]map[string]BaselineJSON `json:"baselines,omitempty"`
}

// BaselineJSON is a container's baseline cpuset (in-place resize).
type BaselineJSON struct {
	Baseline string `json:"baseline"`
}

// NewV1 returns an empty V1 checkpoint as kubelet's constructor makes it:
// the entries map is made, so that an absent "entries" key hashes as `map[]`.
func NewV1() *CPUManagerCheckpointV1 {
	return &CPUManagerCheckpointV1{Entries: make(map[string]string)}
}

// NewV2 returns an empty V2 checkpoint as kubelet's constructor makes it.
func NewV2() *CPUManagerCheckpointV2 {
	return &CPUManagerCheckpointV2{Entries: make(map[string]map[string]string)}
}

// NewV3 returns an empty V3 checkpoint as kubelet's constructor makes it.
func NewV3() *CPUManagerCheckpointV3 {
	return &CPUManagerCheckpointV3{
		Entries:    make(map[string]map[string]string),
		PodEntries: make(PodCPUAssignments),
	}
}

// NewV4 returns an empty V4 checkpoint as kubelet's constructor makes it.
func NewV4() *CPUManagerCheckpoint {
	return &CPUManagerCheckpoint{CPUManagerCheckpointV2: *NewV2()}
}

// Rule identifies one way kubelet computes a cpu manager checksum. Its
// string is the name the test vectors' manifest uses.
type Rule string

// The checksum rules, with the kubelet versions that accept each.
const (
	// RuleV1Legacy: V1 hashed under the name CPUManagerCheckpoint (written by
	// kubelet <= 1.17; 1.18-1.35 verify V1 this way).
	RuleV1Legacy Rule = "cpu.v1(legacy-name)"
	// RuleV2Legacy: V2 hashed under the name CPUManagerCheckpoint (written
	// by 1.18-1.36, read by 1.18-1.37).
	RuleV2Legacy Rule = "cpu.v2(legacy-name)"
	// RuleV2Named: V2 hashed under its real name CPUManagerCheckpointV2
	// (accepted by 1.36 and 1.37 with PodLevelResourceManagers off only).
	RuleV2Named Rule = "cpu.v2(named CPUManagerCheckpointV2)"
	// RuleV3Legacy: V3 hashed under the name CPUManagerCheckpoint (written
	// by 1.36 with PodLevelResourceManagers; read by 1.36 with the gate and
	// by 1.37).
	RuleV3Legacy Rule = "cpu.v3(legacy-name, as written by 1.36)"
	// RuleV3Named: V3 hashed under its real name CPUManagerCheckpointV3
	// (accepted by 1.37 only).
	RuleV3Named Rule = "cpu.v3(named CPUManagerCheckpointV3)"
	// RuleV4Data: V4's dataChecksum, the checksum of the data string.
	RuleV4Data Rule = "cpu.v4(dataChecksum over data string)"
	// RuleV4Legacy: V4's top-level checksum, the V2 legacy-name hash of the
	// embedded V2 part.
	RuleV4Legacy Rule = "cpu.v4(embedded v2 legacy checksum)"
)

// Text returns the exact text kubelet hashes for cp under rule, with the
// stored checksum zeroed as kubelet zeroes it. It returns "" when rule does
// not apply to cp's layout. cp is not modified.
func Text(rule Rule, cp any) string {
	switch c := cp.(type) {
	case *CPUManagerCheckpointV1:
		if rule == RuleV1Legacy {
			v := *c
			v.Checksum = 0
			return replaceFirst(checksum.Text(&v), "CPUManagerCheckpointV1")
		}
	case *CPUManagerCheckpointV2:
		v := *c
		v.Checksum = 0
		switch rule {
		case RuleV2Legacy, RuleV4Legacy:
			return replaceFirst(checksum.Text(&v), "CPUManagerCheckpointV2")
		case RuleV2Named:
			return checksum.Text(&v)
		}
	case *CPUManagerCheckpointV3:
		v := *c
		v.Checksum = 0
		switch rule {
		case RuleV3Legacy:
			return replaceFirst(checksum.Text(&v), "CPUManagerCheckpointV3")
		case RuleV3Named:
			return checksum.Text(&v)
		}
	}
	return ""
}

// replaceFirst applies kubelet's strings.Replace(text, name, LegacyName, 1):
// the first occurrence is the top-level type name.
func replaceFirst(text, name string) string {
	return strings.Replace(text, name, LegacyName, 1)
}

// SumV4Legacy returns the checksum of cp under RuleV4Legacy (equal to
// checksum.Sum of Text(RuleV4Legacy, cp)) without building the text: the
// rename applies to the top-level type name, which checksum.NewReplaced
// hashes in a stream. cp's stored checksum is ignored, as kubelet zeroes
// it.
func SumV4Legacy(cp *CPUManagerCheckpointV2) checksum.Checksum {
	v := *cp
	v.Checksum = 0
	return checksum.NewReplaced(&v, "CPUManagerCheckpointV2", LegacyName)
}
