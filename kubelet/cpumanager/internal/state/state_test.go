package state

import (
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// kubeletPrinter is the printer configuration kubelet hashes with.
var kubeletPrinter = spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}

func sample() (*CPUManagerCheckpointV1, *CPUManagerCheckpointV2, *CPUManagerCheckpointV3) {
	v1 := NewV1()
	v1.PolicyName, v1.DefaultCPUSet = "static", "0,2-3"
	v1.Entries["c1"] = "1"
	v2 := NewV2()
	v2.PolicyName, v2.DefaultCPUSet = "static", "0,3-7"
	v2.Entries["pod"] = map[string]string{"b": "2", "a": "1"}
	v3 := NewV3()
	v3.PolicyName, v3.DefaultCPUSet = "static", "1-2"
	v3.Entries["pod1"] = map[string]string{"container1": "5-6"}
	cs, _ := cpuset.Parse("7-9")
	v3.PodEntries["pod2"] = PodEntry{CPUSet: cs}
	return v1, v2, v3
}

// TestTextMatchesSpew proves the checksum text of these types is go-spew's
// with kubelet's configuration, before any renaming.
func TestTextMatchesSpew(t *testing.T) {
	v1, v2, v3 := sample()
	tests := []struct {
		reason string
		v      any
	}{
		{"V1 layout", v1},
		{"V2 layout", v2},
		{"V3 layout with a cpuset struct", v3},
		{"V4 layout", &CPUManagerCheckpoint{CPUManagerCheckpointV2: *v2, Data: "{}", DataChecksum: 7}},
		{"nil maps", &CPUManagerCheckpointV3{}},
	}
	for _, tt := range tests {
		if got, want := checksum.Text(tt.v), kubeletPrinter.Sprintf("%#v", tt.v); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.reason, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	v1, v2, v3 := sample()
	v2.Checksum = 99 // rules hash with the checksum zeroed
	tests := []struct {
		reason string
		rule   Rule
		cp     any
		want   string
	}{
		{"V1 under the pre-1.18 name", RuleV1Legacy, v1,
			"(*state.CPUManagerCheckpoint){PolicyName:(string)static DefaultCPUSet:(string)0,2-3 Entries:(map[string]string)map[c1:1] Checksum:(checksum.Checksum)0}"},
		{"V2 under the legacy name", RuleV2Legacy, v2,
			"(*state.CPUManagerCheckpoint){PolicyName:(string)static DefaultCPUSet:(string)0,3-7 Entries:(map[string]map[string]string)map[pod:map[a:1 b:2]] Checksum:(checksum.Checksum)0}"},
		{"V4's legacy block is the V2 legacy text", RuleV4Legacy, v2,
			"(*state.CPUManagerCheckpoint){PolicyName:(string)static DefaultCPUSet:(string)0,3-7 Entries:(map[string]map[string]string)map[pod:map[a:1 b:2]] Checksum:(checksum.Checksum)0}"},
		{"V2 under its real name", RuleV2Named, v2,
			"(*state.CPUManagerCheckpointV2){PolicyName:(string)static DefaultCPUSet:(string)0,3-7 Entries:(map[string]map[string]string)map[pod:map[a:1 b:2]] Checksum:(checksum.Checksum)0}"},
		{"V3 under the legacy name", RuleV3Legacy, v3,
			"(*state.CPUManagerCheckpoint){PolicyName:(string)static DefaultCPUSet:(string)1-2 Entries:(map[string]map[string]string)map[pod1:map[container1:5-6]] PodEntries:(state.PodCPUAssignments)map[pod2:{CPUSet:(cpuset.CPUSet){elems:(map[int]struct {})map[7:{} 8:{} 9:{}]}}] Checksum:(checksum.Checksum)0}"},
		{"a rule of another layout gives no text", RuleV1Legacy, v2, ""},
	}
	for _, tt := range tests {
		if got := Text(tt.rule, tt.cp); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.reason, got, tt.want)
		}
	}
	if v2.Checksum != 99 {
		t.Error("Text modified its argument")
	}
}
