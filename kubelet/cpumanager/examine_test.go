package cpumanager

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

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
		{name: "null", reason: "a null document holds no state",
			in: `null`, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "array", reason: "the top level must be an object",
			in: `[1]`, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "trailing", reason: "bytes after the document mean a torn write",
			in: `{"policyName":"none","defaultCpuSet":"","checksum":1353318690}x`, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "checksum type", reason: "a string checksum fails every layout",
			in: `{"policyName":"none","checksum":"1"}`, format: FormatV2, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "v2 fresh", reason: "what 1.18-1.36 write for policy none",
			in: `{"policyName":"none","defaultCpuSet":"","checksum":1353318690}`, format: FormatV2, verdict: check.Valid},
		{name: "v2 zero", reason: "checksum 0 is not checked by V2 readers",
			in: `{"policyName":"none","defaultCpuSet":"","checksum":0}`, format: FormatV2, verdict: check.Unverified},
		{name: "file backend v1", reason: "no checksum key: the pre-1.18 file backend, layout named in Description",
			in: `{"policyName":"static","defaultCpuSet":"0","entries":{"c":"1"}}`, format: FormatFileBackend, verdict: check.Unverified},
		{name: "v3 zero with pod entries", reason: "the V2 bypass would drop the pod-level entries",
			in:     `{"policyName":"static","defaultCpuSet":"0","podEntries":{"p":{"cpuSet":"1-2"}},"checksum":0}`,
			format: FormatV3, verdict: check.Corrupt, is: ErrZeroChecksum},
		{name: "v3 zero, empty pod entries", reason: "nothing to drop: read as V2 with the bypass",
			in: `{"policyName":"none","defaultCpuSet":"","podEntries":{},"checksum":0}`, format: FormatV2, verdict: check.Unverified},
		{name: "v3 bad pod cpuset", reason: "kubelet parses pod-level cpusets while decoding",
			in:     `{"policyName":"static","defaultCpuSet":"0","podEntries":{"p":{"cpuSet":"x"}},"checksum":5}`,
			format: FormatV3, verdict: check.Invalid, is: ErrCPUSet},
		{name: "v3 pod entries wrong type", reason: "pod entries that are not an object cannot decode",
			in: `{"policyName":"static","podEntries":5,"checksum":5}`, format: FormatV3, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "v4 data not json", reason: "1.37 cannot deserialize data and has no fallback",
			in:     `{"policyName":"none","defaultCpuSet":"","checksum":1353318690,"data":"{","dataChecksum":1}`,
			format: FormatV4, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "v4 entries v1-shaped", reason: "1.37 fails to decode the V4 struct and has no fallback",
			in:     `{"policyName":"none","entries":{"c":"1"},"checksum":1,"data":"{}","dataChecksum":1}`,
			format: FormatV4, verdict: check.Invalid, is: check.ErrInvalid},
		{name: "v4 legacy zero", reason: "data verifies; 1.35/1.36 skip a zero V2 checksum",
			in:     `{"policyName":"none","defaultCpuSet":"","checksum":0,"data":"{\"policyName\":\"none\",\"defaultCpuSet\":\"\"}","dataChecksum":3028111495}`,
			format: FormatV4, verdict: check.Valid},
		{name: "v4 data checksum wrong", reason: "the authoritative checksum fails",
			in:     `{"policyName":"none","defaultCpuSet":"","checksum":1353318690,"data":"{\"policyName\":\"none\",\"defaultCpuSet\":\"\"}","dataChecksum":7}`,
			format: FormatV4, verdict: check.Corrupt, is: ErrDataChecksum},
		{name: "v4 bad pod cpuset in data", reason: "kubelet parses pod-level cpusets while decoding data",
			in:     `{"policyName":"none","defaultCpuSet":"","checksum":1353318690,"data":"{\"podEntries\":{\"p\":{\"cpuSet\":\"9-1\"}}}","dataChecksum":7}`,
			format: FormatV4, verdict: check.Invalid, is: ErrCPUSet},
		{name: "overlap", reason: "two containers hold CPU 2: a note, not a verdict",
			in:     `{"policyName":"static","defaultCpuSet":"0","entries":{"a":{"x":"1-2"},"b":{"y":"2-3"}},"checksum":0}`,
			format: FormatV2, verdict: check.Unverified, note: "CPU 2 assigned more than once"},
		{name: "pod-level holds its containers", reason: "containers are carved from their pod's set: no overlap",
			in:     `{"policyName":"static","defaultCpuSet":"0","entries":{"a":{"x":"1-2"}},"podEntries":{"a":{"cpuSet":"1-3"}},"checksum":1}`,
			format: FormatV3, verdict: check.Corrupt},
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
			if (res.Err == nil) != (res.Verdict == check.Valid || res.Verdict == check.Unverified) {
				t.Errorf("%s: verdict %s with err %v", tt.reason, res.Verdict, res.Err)
			}
			if tt.note != "" && !hasNote(res, tt.note) {
				t.Errorf("%s: no note %q in %q", tt.reason, tt.note, res.Notes)
			}
			if tt.name == "pod-level holds its containers" && hasNote(res, "more than once") {
				t.Errorf("%s: unexpected overlap note %q", tt.reason, res.Notes)
			}
		})
	}
}

func TestDecodeV1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(casesDir, "B02-cpu-v1-legacy-checksum-typename/cpu_manager_state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(data); !errors.Is(err, ErrV1Layout) {
		t.Errorf("Decode(V1) err = %v, want ErrV1Layout", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		reason string
		in     string
		want   bool
	}{
		{"kubelet's key", `{"policyName":"none","defaultCpuSet":""}`, true},
		{"test-literal spelling, matched like encoding/json", `{"defaultCPUSet":"4-6"}`, true},
		{"memory manager file", `{"policyName":"Static","machineState":{}}`, false},
		{"not an object", `[]`, false},
		{"garbage", "\x00\x00", false},
		{"key after a nested value", `{"entries":{"a":{"b":"1"}},"defaultcpuset":"1"}`, true},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: Sniff(%s) = %v, want %v", tt.reason, tt.in, got, tt.want)
		}
	}
}
