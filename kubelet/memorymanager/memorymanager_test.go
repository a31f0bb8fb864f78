package memorymanager

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// TestKubeletGenerated checks that every file kubelet v1.37.2 wrote is valid
// and that Decode then Encode gives the same bytes.
func TestKubeletGenerated(t *testing.T) {
	files, err := filepath.Glob("../../testdata/kubelet-generated/memorymanager/*/memory_manager_state")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files: %v", err)
	}
	derived, _ := filepath.Glob(filepath.Join(vectorsDir, "memorymanager/derived-v3-writer-*.json"))
	for _, f := range append(files, derived...) {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := Examine(data)
			if res.Verdict != check.Valid || res.Format != FormatV3 {
				t.Fatalf("Examine = %s %s, want valid v3; err %v", res.Format, res.Verdict, res.Err)
			}
			s, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("Encode(Decode(file)) differs:\n got %.300s\nwant %.300s", out, data)
			}
		})
	}
}

func TestEncodeReadableByEveryLayout(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		state  State
	}{
		{"empty", "no machine state, no entries: the legacy block hashes the reader's made maps", State{PolicyName: "None"}},
		{"empty machine", "an empty machine state is written as {}", State{PolicyName: "Static", MachineState: NUMANodeMap{}}},
		{"one block", "a container block", State{PolicyName: "Static",
			MachineState: NUMANodeMap{0: {MemoryMap: map[ResourceName]*MemoryTable{"memory": {TotalMemSize: 4, Allocatable: 4, Free: 3, Reserved: 1}}, Cells: []int{0}}},
			Entries:      ContainerMemoryAssignments{"p": {"c": {{NUMAAffinity: []int{0}, Type: "memory", Size: 1}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Encode(&tt.state)
			if err != nil {
				t.Fatal(err)
			}
			res := Examine(out)
			if res.Verdict != check.Valid || len(res.Notes) != 0 {
				t.Fatalf("%s: Examine(Encode) = %s, notes %q: %v", tt.reason, res.Verdict, res.Notes, res.Err)
			}
			// Strip data and dataChecksum: what a 1.35 reader sees must verify as V1.
			v1 := bytes.Split(out, []byte(`,"data":`))[0]
			if r := Examine(append(v1, '}')); r.Verdict != check.Valid || r.Format != FormatV1 {
				t.Errorf("%s: the legacy block alone is %s %s: %v", tt.reason, r.Format, r.Verdict, r.Err)
			}
		})
	}
	if _, err := Encode(nil); !errors.Is(err, check.ErrInvalid) {
		t.Errorf("Encode(nil) err = %v", err)
	}
}

const machine = `"machineState":{"0":{"numberOfAssignments":1,"memoryMap":{"memory":{"total":2048,"systemReserved":512,"allocatable":1536,"reserved":512,"free":1024}},"cells":[0]}}`

func TestExamineEdges(t *testing.T) {
	tests := []struct {
		name    string
		reason  string
		in      string
		format  string
		verdict check.Verdict
		is      error
		note    string
	}{
		{name: "null", reason: "a null document holds no state", in: `null`, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "no machine state", reason: "the main section is required",
			in: `{"policyName":"None","checksum":5}`, format: FormatV1, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "wrong type", reason: "a string where a NUMA map is expected",
			in: `{"policyName":"None","machineState":"x","checksum":5}`, format: FormatV1, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "bad pod entries", reason: "pod entries that are not an object",
			in: `{"policyName":"None",` + machine + `,"podEntries":[],"checksum":5}`, format: FormatV2, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "v1 zero", reason: "1.36+ accept checksum 0 for V1",
			in: `{"policyName":"Static",` + machine + `,"checksum":0}`, format: FormatV1, verdict: check.Unverified,
			note: "reserved 512, but the blocks assigned there sum to 0"},
		{name: "v3 legacy zero", reason: "1.35 has no zero bypass, so a zero legacy checksum fails",
			in:     `{"policyName":"None","machineState":{},"checksum":0,"data":"{\"policyName\":\"None\",\"machineState\":{}}","dataChecksum":3093843326}`,
			format: FormatV3, verdict: check.Corrupt, is: ErrLegacyChecksum},
		{name: "v3 data checksum", reason: "the authoritative checksum fails",
			in:     `{"policyName":"None","machineState":{},"checksum":0,"data":"{}","dataChecksum":1}`,
			format: FormatV3, verdict: check.Corrupt, is: ErrDataChecksum},
		{name: "v3 data wrong type", reason: "data that does not decode as the state is invalid",
			in:     `{"policyName":"None","machineState":{},"checksum":0,"data":"{\"machineState\":5}","dataChecksum":1}`,
			format: FormatV3, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "accounting", reason: "reserved + free must equal allocatable: a note only",
			in:     `{"policyName":"Static","machineState":{"0":{"memoryMap":{"memory":{"total":10,"systemReserved":0,"allocatable":10,"reserved":1,"free":1}},"cells":[0]}},"checksum":0}`,
			format: FormatV1, verdict: check.Unverified, note: "reserved 1 + free 1 = 2, but allocatable is 10"},
		{name: "multi-node block", reason: "a block spanning nodes 0,1 is checked against both nodes together",
			in:     `{"policyName":"Static","machineState":{"0":{"memoryMap":{"memory":{"total":4,"allocatable":4,"reserved":3,"free":1}}},"1":{"memoryMap":{"memory":{"total":4,"allocatable":4,"reserved":1,"free":3}}}},"entries":{"p":{"c":[{"numaAffinity":[0,1],"type":"memory","size":4}]}},"checksum":0}`,
			format: FormatV1, verdict: check.Unverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Examine([]byte(tt.in))
			if res.Verdict != tt.verdict {
				t.Fatalf("%s: verdict %s, want %s (err %v)", tt.reason, res.Verdict, tt.verdict, res.Err)
			}
			if tt.format != "" && res.Format != tt.format {
				t.Errorf("%s: format %q, want %q", tt.reason, res.Format, tt.format)
			}
			if tt.is != nil && !errors.Is(res.Err, tt.is) {
				t.Errorf("%s: err %v does not wrap %v", tt.reason, res.Err, tt.is)
			}
			if tt.note != "" && !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
				t.Errorf("%s: no note %q in %q", tt.reason, tt.note, res.Notes)
			}
			if tt.name == "multi-node block" && len(res.Notes) != 0 {
				t.Errorf("%s: unexpected notes %q", tt.reason, res.Notes)
			}
		})
	}
}

func TestCases(t *testing.T) {
	tests := []struct {
		file    string
		reason  string
		verdict check.Verdict
		format  string
		problem check.DecodeProblem
	}{
		{"B27-empty-truncated-after-hard-reboot/empty/memory_manager_state", "durability failure: empty",
			check.Invalid, "", check.ProblemEmpty},
		{"B08-memory-numa-total-drift-after-reboot/memory_manager_state", "a valid <=1.35 file: drift is a machine matter",
			check.Valid, FormatV1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../../testdata/cases", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res := Examine(data)
			if res.Verdict != tt.verdict || res.Format != tt.format {
				t.Fatalf("%s: %s %s, want %s %s (err %v)", tt.reason, res.Format, res.Verdict, tt.format, tt.verdict, res.Err)
			}
			if tt.problem != "" {
				var de *check.DecodeError
				if !errors.As(res.Err, &de) || de.Problem != tt.problem {
					t.Errorf("%s: err %v, want problem %s", tt.reason, res.Err, tt.problem)
				}
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		reason string
		in     string
		want   bool
	}{
		{"kubelet's key", `{"policyName":"Static","machineState":{}}`, true},
		{"case-insensitive like encoding/json", `{"MACHINESTATE":{}}`, true},
		{"cpu manager file", `{"policyName":"none","defaultCpuSet":""}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: Sniff(%s) = %v, want %v", tt.reason, tt.in, got, tt.want)
		}
	}
}

func FuzzExamine(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join(vectorsDir, "memorymanager/*.json"),
		"../../testdata/kubelet-generated/memorymanager/small/*",
		"../../testdata/cases/B08*/memory_manager_state",
		"../../testdata/cases/B27*/*/memory_manager_state",
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := Examine(data)
		Sniff(data)
		ok := res.Verdict == check.Valid || res.Verdict == check.Unverified
		if ok != (res.Err == nil) {
			t.Fatalf("verdict %s with err %v", res.Verdict, res.Err)
		}
		s, err := Decode(data)
		if err != nil {
			return
		}
		out, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode(Decode(x)): %v", err)
		}
		if r := Examine(out); r.Verdict != check.Valid {
			t.Fatalf("Encode(Decode(x)) is %s: %v", r.Verdict, r.Err)
		}
	})
}
