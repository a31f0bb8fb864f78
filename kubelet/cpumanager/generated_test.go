package cpumanager

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// TestKubeletGenerated checks that every file kubelet v1.37.2 wrote is valid,
// and that Decode then Encode gives the same bytes.
func TestKubeletGenerated(t *testing.T) {
	files, err := filepath.Glob("../../testdata/kubelet-generated/cpumanager/*/cpu_manager_state")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := Examine(data)
			if res.Verdict != check.Valid || res.Format != FormatV4 {
				t.Fatalf("Examine = %s %s, want valid v4; err %v", res.Format, res.Verdict, res.Err)
			}
			for _, ck := range res.Checksums {
				if !ck.OK {
					t.Errorf("checksum %s (%s) not OK: %+v", ck.Field, ck.Rule, ck)
				}
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
				t.Errorf("Encode(Decode(file)) differs from the file:\n got %.300s\nwant %.300s", out, data)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		state  State
		want   string
	}{
		{
			name:   "fresh none",
			reason: "kubelet 1.37 writes this for a new node with policy none (FORMATS.md §3.1)",
			state:  State{PolicyName: "none"},
			want: `{"policyName":"none","defaultCpuSet":"","checksum":1353318690,` +
				`"data":"{\"policyName\":\"none\",\"defaultCpuSet\":\"\"}","dataChecksum":3028111495}`,
		},
		{
			name:   "normalised cpusets",
			reason: "kubelet prints its in-memory sets, so non-canonical lists are rewritten",
			state:  State{PolicyName: "static", DefaultCPUSet: "3,0,1-2", Entries: map[string]map[string]string{"p": {"c": "5,4"}}},
			want: `{"policyName":"static","defaultCpuSet":"0-3","entries":{"p":{"c":"4-5"}},"checksum":%d,` +
				`"data":"{\"policyName\":\"static\",\"defaultCpuSet\":\"0-3\",\"entries\":{\"p\":{\"c\":\"4-5\"}}}","dataChecksum":%d}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Encode(&tt.state)
			if err != nil {
				t.Fatalf("%s: %v", tt.reason, err)
			}
			res := Examine(out)
			if res.Verdict != check.Valid {
				t.Fatalf("%s: Examine(Encode) = %s: %v", tt.reason, res.Verdict, res.Err)
			}
			if tt.name == "fresh none" && string(out) != tt.want {
				t.Errorf("%s:\n got %s\nwant %s", tt.reason, out, tt.want)
			}
			back, err := Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Encode(back)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("%s: re-encode differs (%v):\n%s\n%s", tt.reason, err, again, out)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		state  *State
		is     error
	}{
		{"nil", "a nil state cannot be written", nil, check.ErrInvalid},
		{"bad default", "kubelet could not have this set in memory", &State{DefaultCPUSet: "1.3"}, ErrCPUSet},
		{"bad entry", "same for a container", &State{Entries: map[string]map[string]string{"p": {"c": "x"}}}, ErrCPUSet},
		{"bad pod entry", "same for a pod", &State{PodEntries: map[string]string{"p": "3-1"}}, ErrCPUSet},
		{"bad baseline", "same for a baseline", &State{Baselines: map[string]map[string]string{"p": {"c": ","}}}, ErrCPUSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encode(tt.state); !errors.Is(err, tt.is) {
				t.Errorf("%s: err = %v, want %v", tt.reason, err, tt.is)
			}
		})
	}
}
