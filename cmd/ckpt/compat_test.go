package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCkpt runs the command in-process and returns stdout, stderr and status.
func runCkpt(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCompatCases(t *testing.T) {
	b04 := "../../testdata/cases/B04-cpu-format-version-skew/"
	tests := []struct {
		reason string
		args   []string
		code   int
		want   []string
	}{
		{reason: "B04: a V4 file with pod-level entries loses them in 1.35 (EXPECT: the loss warning)",
			args: []string{"compat", b04 + "cpu_manager_state.v4-k137-podlvl", "--kubelet", "1.35"}, code: exitBad,
			want: []string{"ACCEPT-WITH-LOSS", "LOSES: pod-level CPU assignments of bbbbbbbb-0000-4000-8000-00000000000b (3-4)",
				"CPUs 3-4 are in neither"}},
		{reason: "B04: the matrix (EXPECT: rows per version and gate, accept / reject / accept-with-loss)",
			args: []string{"compat", b04 + "cpu_manager_state.v4-k137-podlvl"}, code: exitOK,
			want: []string{"Summary:  accepted by kubelet 1.37; accepted with loss by 1.18-1.36; rejected by 1.17",
				"1.18-1.35", "PodLevelResourceManagers=on", "accept-with-loss", "reject (kubelet exits)"}},
		{reason: "B04: the V2-type-name variant is rejected by 1.35",
			args: []string{"compat", b04 + "cpu_manager_state.v2-typename-v2", "--kubelet", "1.35"}, code: exitBad,
			want: []string{"REJECT", "checkpoint is corrupted", "kubelet refuses to start"}},
		{reason: "B04: and by 1.37 with PodLevelResourceManagers (ORACLE)",
			args: []string{"compat", b04 + "cpu_manager_state.v2-typename-v2", "--kubelet", "1.37", "--feature-gates",
				"PodLevelResourceManagers=true"}, code: exitBad, want: []string{"PodLevelResourceManagers=on: REJECT"}},
		{reason: "B04: V2 as 1.18-1.35 wrote it is read by 1.35",
			args: []string{"compat", b04 + "cpu_manager_state.v2-k118-k135", "--kubelet", "1.35"}, code: exitOK,
			want: []string{"Kubelet 1.35, -: ACCEPT"}},
		{reason: "B02: V1 is readable up to 1.36, not by 1.37",
			args: []string{"compat", "../../testdata/cases/B02-cpu-v1-legacy-checksum-typename/cpu_manager_state"}, code: exitOK,
			want: []string{"accepted by kubelet 1.17-1.36; rejected by 1.37", "kubelet 1.37 no longer reads V1 files"}},
		{reason: "B18: the legacy DRA file is readable only by 1.30 (EXPECT)",
			args: []string{"compat", "../../testdata/cases/B18-dra-1.30-to-1.31-upgrade/dra_manager_state"}, code: exitOK,
			want: []string{"accepted by kubelet 1.30; rejected by 1.27-1.29, 1.31-1.37"}},
		{reason: "B18: the current DRA file only by 1.31 and later (EXPECT)",
			args: []string{"compat", "../../testdata/cases/B18-dra-1.30-to-1.31-upgrade/dra_manager_state.current-format"}, code: exitOK,
			want: []string{"accepted by kubelet 1.31-1.37; rejected by 1.27-1.30"}},
		{reason: "B17: the 1.29 shape is rejected by 1.30",
			args: []string{"compat", "../../testdata/cases/B17-dra-api-field-added-checksum/dra_manager_state.k129", "--kubelet", "1.30",
				"--feature-gates", "DynamicResourceAllocation=true"}, code: exitBad,
			want: []string{"REJECT", "verifies only with the fnv-1.29 shape"}},
		{reason: "B12: the pre-1.20 device file is silently lost by 1.37",
			args: []string{"compat", "../../testdata/cases/B12-device-pre-1.20-format-silent-loss/kubelet_internal_checkpoint", "--kubelet", "1.37"},
			code: exitBad, want: []string{"REJECT", "1 allocation(s) lost", "kubelet carries on without this state"}},
		{reason: "a bad version is a usage error", args: []string{"compat", b04 + "cpu_manager_state.v2-k118-k135", "--kubelet", "1.99"}, code: exitUsage},
		{reason: "a bad gate is a usage error", args: []string{"compat", b04 + "cpu_manager_state.v2-k118-k135", "--feature-gates", "X=1"}, code: exitUsage},
		{reason: "a missing file is a usage error", args: []string{"compat", "/nonexistent/cpu_manager_state"}, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			out, stderr, code := runCkpt(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestCompatJSON(t *testing.T) {
	out, _, code := runCkpt(t, "compat", "-o", "json", "--kubelet", "1.30",
		"../../testdata/cases/B18-dra-1.30-to-1.31-upgrade/dra_manager_state")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Kind     string `json:"kind"`
		Format   string `json:"format"`
		Summary  string `json:"summary"`
		Cells    []struct{ Kubelet, Outcome string }
		Selected []struct {
			Kubelet string `json:"kubelet"`
			GateOn  bool   `json:"gateOn"`
			Outcome string `json:"outcome"`
		} `json:"selected"`
		Other []struct {
			Kubelet string `json:"kubelet"`
			GateOn  bool   `json:"gateOn"`
			Outcome string `json:"outcome"`
		} `json:"other"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// The default setting (gate off in 1.30) is selected; the other
	// setting follows, since --feature-gates does not set the gate.
	if got.Kind != "dra" || got.Format != "fnv-1.30" || len(got.Cells) < 21 || len(got.Selected) != 1 || len(got.Other) != 1 ||
		got.Selected[0].GateOn || !got.Other[0].GateOn {
		t.Fatalf("%+v", got)
	}
	for _, c := range append(got.Selected, got.Other...) {
		want := map[bool]string{false: "not-read", true: "accept"}[c.GateOn]
		if c.Kubelet != "1.30" || c.Outcome != want {
			t.Errorf("1.30 gate on=%v: %+v, want %s", c.GateOn, c, want)
		}
	}
}

func TestCompatInInspect(t *testing.T) {
	f := "../../testdata/cases/B04-cpu-format-version-skew/cpu_manager_state.v4-k137-podlvl"
	out, _, _ := runCkpt(t, "inspect", f)
	if !strings.Contains(out, "Kubelet compatibility (ckpt compat):") || !strings.Contains(out, "accepted with loss by 1.18-1.36") {
		t.Errorf("inspect lacks the compat section:\n%s", out)
	}
	out, _, _ = runCkpt(t, "inspect", "-o", "json", f)
	var got struct {
		Sections map[string]json.RawMessage `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Sections["compat"] == nil {
		t.Errorf("inspect -o json lacks sections.compat (%v):\n%s", err, out)
	}
	// A file that is no checkpoint has no section.
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	if out, _, _ := runCkpt(t, "inspect", notes); strings.Contains(out, "Kubelet compatibility") {
		t.Errorf("compat section for an unknown file:\n%s", out)
	}
}

func TestFixCommandsHaveHelpWithExamples(t *testing.T) {
	for _, c := range []string{"compat", "migrate", "repair"} {
		out, _, code := runCkpt(t, c, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d\n%s", c, code, out)
		}
	}
}
