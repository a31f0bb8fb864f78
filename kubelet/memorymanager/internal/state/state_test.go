package state

import (
	"encoding/json"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

var kubeletPrinter = spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}

// TestTextMatchesSpew proves the checksum text of these types is go-spew's
// with kubelet's configuration.
func TestTextMatchesSpew(t *testing.T) {
	v2 := NewV2()
	if err := json.Unmarshal([]byte(`{"policyName":"Static","machineState":{"1":{"numberOfAssignments":1,`+
		`"memoryMap":{"memory":{"total":3},"hugepages-1Gi":null},"cells":null},"0":{"cells":[]}},`+
		`"entries":{"p":{"c":[{"numaAffinity":[0,1],"type":"memory","size":5}]}},"podEntries":{"p":{}},"checksum":9}`), v2); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		v      any
	}{
		{"V2 with nil and empty values everywhere", v2},
		{"V1 made by the constructor", NewV1()},
		{"V3 made by the constructor", NewV3()},
		{"zero V1: nil maps", &MemoryManagerCheckpointV1{}},
	}
	for _, tt := range tests {
		if got, want := checksum.Text(tt.v), kubeletPrinter.Sprintf("%#v", tt.v); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.reason, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	v1 := NewV1()
	v1.PolicyName, v1.Checksum = "None", 77
	tests := []struct {
		reason string
		rule   Rule
		cp     any
		want   string
	}{
		{"V1 under the legacy name, checksum zeroed", RuleV1Legacy, v1,
			"(*state.MemoryManagerCheckpoint){PolicyName:(string)None MachineState:(state.NUMANodeMap)map[] Entries:(state.ContainerMemoryAssignments)map[] Checksum:(checksum.Checksum)0}"},
		{"V3's legacy block is the V1 legacy text", RuleV3Legacy, v1,
			"(*state.MemoryManagerCheckpoint){PolicyName:(string)None MachineState:(state.NUMANodeMap)map[] Entries:(state.ContainerMemoryAssignments)map[] Checksum:(checksum.Checksum)0}"},
		{"V1 under its real name", RuleV1Named, v1,
			"(*state.MemoryManagerCheckpointV1){PolicyName:(string)None MachineState:(state.NUMANodeMap)map[] Entries:(state.ContainerMemoryAssignments)map[] Checksum:(checksum.Checksum)0}"},
		{"V2 under the legacy name", RuleV2Legacy, NewV2(),
			"(*state.MemoryManagerCheckpoint){PolicyName:(string) MachineState:(state.NUMANodeMap)map[] Entries:(state.ContainerMemoryAssignments)map[] PodEntries:(state.PodMemoryAssignments)map[] Checksum:(checksum.Checksum)0}"},
		{"a rule of another layout gives no text", RuleV2Legacy, v1, ""},
	}
	for _, tt := range tests {
		if got := Text(tt.rule, tt.cp); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.reason, got, tt.want)
		}
	}
	if v1.Checksum != 77 {
		t.Error("Text modified its argument")
	}
}
