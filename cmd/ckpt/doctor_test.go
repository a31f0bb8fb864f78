package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/doctor"
)

// copyCase copies case files into a fresh kubelet directory: dst name ->
// path under testdata/cases.
func copyCase(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kubelet")
	for dst, src := range files {
		data, err := os.ReadFile(casePath(src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func doctorJSON(t *testing.T, args ...string) (doctor.Report, int) {
	t.Helper()
	out, stderr, code := ckpt(t, append([]string{"doctor", "-o", "json"}, args...)...)
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s %s", err, out, stderr)
	}
	return r, code
}

func codes(r doctor.Report) map[string]doctor.Finding {
	m := map[string]doctor.Finding{}
	for _, f := range r.Findings {
		m[f.Code] = f
	}
	return m
}

func TestDoctorCases(t *testing.T) {
	for _, tc := range []struct {
		reason   string
		files    map[string]string
		args     []string
		wantCode int
		want     map[string]string // finding code -> substring of its summary
	}{
		{"B01: policy changed none -> static",
			map[string]string{"cpu_manager_state": "B01-cpu-policy-none-to-static/cpu_manager_state"},
			[]string{"--kubelet-config", casePath("B01-cpu-policy-none-to-static", "kubelet-config.yaml"), "--sys", ""},
			exitFindings, map[string]string{doctor.CodePolicy: `policy in the file is "none"`}},
		{"B05 leak", map[string]string{"cpu_manager_state": "B05-cpu-torn-multiwrite-leak-overlap/leak/cpu_manager_state"},
			[]string{"--machine", casePath("B05-cpu-torn-multiwrite-leak-overlap", "machine.json")},
			exitFindings, map[string]string{doctor.CodeCPULeaked: "leaked: 1-2"}},
		{"B05 overlap", map[string]string{"cpu_manager_state": "B05-cpu-torn-multiwrite-leak-overlap/overlap/cpu_manager_state"},
			[]string{"--cpus", "0-7"},
			exitFindings, map[string]string{doctor.CodeCPUDouble: "double-assigned: 1-2 (pod aaaaaaaa-0000-4000-8000-00000000000a/app)"}},
		{"B07 stale", map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"},
			[]string{"--pods-from", casePath("B07-cpu-stale-entries-deleted-pods", "active-pods.json"), "--cpus", "0-7"},
			exitFindings, map[string]string{doctor.CodeStale: "1 stale entry"}},
		{"B08 drift", map[string]string{"memory_manager_state": "B08-memory-numa-total-drift-after-reboot/memory_manager_state"},
			[]string{"--machine", casePath("B08-memory-numa-total-drift-after-reboot", "machine.json")},
			exitFindings, map[string]string{doctor.CodeMemoryDrift: "safe to rebase"}},
		{"B15 stale", map[string]string{"device-plugins/kubelet_internal_checkpoint": "B15-device-stale-entries/kubelet_internal_checkpoint"},
			[]string{"--pods-from", casePath("B15-device-stale-entries", "active-pods.json"), "--sys", ""},
			exitFindings, map[string]string{doctor.CodeStale: "1 stale entry"}},
		{"B20 corrupt", map[string]string{"dra_manager_state": "B20-dra-plugin-corrupt-crashloop/dra_manager_state"},
			[]string{"--sys", ""},
			exitBad, map[string]string{doctor.CodeCorrupt: "(expected 2075790230, found 2075790231)"}},
		{"B29 empty: nothing wrong", map[string]string{}, []string{"--sys", ""}, exitOK, map[string]string{doctor.CodeAbsent: "absent (normal)"}},
		{"B30 lost CPU, 1.37", map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/valid-checksum-lost-cpu/cpu_manager_state"},
			[]string{"--kubelet-version", "1.37", "--sys", ""},
			exitBad, map[string]string{doctor.CodeUnsupported: "kubelet 1.37 cannot read", doctor.CodeCPULeaked: "CPU 1 missing"}},
		{"B30 bad checksum", map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/bad-checksum/cpu_manager_state"},
			[]string{"--sys", ""},
			exitBad, map[string]string{doctor.CodeCorrupt: "(expected 1104188325, found 2479968155)"}},
	} {
		dir := copyCase(t, tc.files)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		r, code := doctorJSON(t, append([]string{dir}, tc.args...)...)
		if code != tc.wantCode {
			t.Errorf("%s: exit %d, want %d", tc.reason, code, tc.wantCode)
		}
		got := codes(r)
		for c, sub := range tc.want {
			if f, ok := got[c]; !ok || !strings.Contains(f.Summary, sub) {
				t.Errorf("%s: finding %s = %+v, want summary with %q", tc.reason, c, f, sub)
			}
		}
	}
}

func TestDoctorText(t *testing.T) {
	dir := copyCase(t, map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"})
	pods := casePath("B07-cpu-stale-entries-deleted-pods", "active-pods.json")
	out, _, code := ckpt(t, "doctor", dir, "--pods-from", pods, "--cpus", "0-7")
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"OK      cpu_manager_state",
		"WARNING  stale-entries  " + filepath.Join(dir, "cpu_manager_state"),
		"- bbbbbbbb-0000-4000-8000-00000000000b/db: CPUs 3-4",
		"- after prune: default CPU set 0,5-7 -> 0,3-7",
		"Fix (with kubelet stopped",
		"ckpt prune " + filepath.Join(dir, "cpu_manager_state") + " --pods-from " + pods + " --yes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDoctorUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		reason string
		args   []string
	}{
		{"a missing directory", []string{"doctor", filepath.Join(dir, "missing")}},
		{"a missing config", []string{"doctor", dir, "--kubelet-config", filepath.Join(dir, "none.yaml")}},
		{"a bad version", []string{"doctor", dir, "--kubelet-version", "banana", "--sys", ""}},
		{"a bad CPU list", []string{"doctor", dir, "--cpus", "7-1"}},
		{"an empty pod list", []string{"doctor", dir, "--pods-from", os.DevNull, "--sys", ""}},
		{"an explicit sys that does not exist", []string{"doctor", dir, "--sys", filepath.Join(dir, "nosys")}},
	} {
		if _, _, code := ckpt(t, tc.args...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", tc.reason, code, exitUsage)
		}
	}
}
