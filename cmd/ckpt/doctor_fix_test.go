package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/doctor"
)

// The fixes doctor prints work: running the ckpt commands of each
// finding's fix (kubelet stopped, here a proc tree without kubelet) makes
// the finding go away, as docs/operators.md describes.
func TestDoctorFixesWork(t *testing.T) {
	machine := casePath("B05-cpu-torn-multiwrite-leak-overlap", "machine.json")
	for _, tc := range []struct {
		reason string
		files  map[string]string
		args   []string
		code   string
	}{
		{"B01 policy none -> static", map[string]string{"cpu_manager_state": "B01-cpu-policy-none-to-static/cpu_manager_state"},
			[]string{"--kubelet-config", casePath("B01-cpu-policy-none-to-static", "kubelet-config.yaml"), "--sys", ""}, doctor.CodePolicy},
		{"B05 leak", map[string]string{"cpu_manager_state": "B05-cpu-torn-multiwrite-leak-overlap/leak/cpu_manager_state"},
			[]string{"--machine", machine}, doctor.CodeCPULeaked},
		{"B05 overlap", map[string]string{"cpu_manager_state": "B05-cpu-torn-multiwrite-leak-overlap/overlap/cpu_manager_state"},
			[]string{"--machine", machine, "--pods-from", casePath("B07-cpu-stale-entries-deleted-pods", "active-pods.json")}, doctor.CodeCPUDouble},
		{"B07 stale", map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"},
			[]string{"--pods-from", casePath("B07-cpu-stale-entries-deleted-pods", "active-pods.json"), "--machine", machine}, doctor.CodeStale},
		{"B08 drift", map[string]string{"memory_manager_state": "B08-memory-numa-total-drift-after-reboot/memory_manager_state"},
			[]string{"--machine", casePath("B08-memory-numa-total-drift-after-reboot", "machine.json")}, doctor.CodeMemoryDrift},
		{"B15 stale", map[string]string{"device-plugins/kubelet_internal_checkpoint": "B15-device-stale-entries/kubelet_internal_checkpoint"},
			[]string{"--pods-from", casePath("B15-device-stale-entries", "active-pods.json"), "--sys", ""}, doctor.CodeStale},
		{"B30 V1 file for kubelet 1.37", map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/valid-checksum-lost-cpu/cpu_manager_state"},
			[]string{"--kubelet-version", "1.37", "--cpus", "0,2-3"}, doctor.CodeUnsupported},
		{"B30 bad checksum, no assignment", map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/bad-checksum/cpu_manager_state"},
			[]string{"--cpus", "0,2-3"}, doctor.CodeCorrupt},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			dir := copyCase(t, tc.files)
			args := append([]string{dir}, tc.args...)
			r, _ := doctorJSON(t, args...)
			f, ok := codes(r)[tc.code]
			if !ok {
				t.Fatalf("no %s finding: %+v", tc.code, r.Findings)
			}
			proc := fakeProc(t, false)
			ran := 0
			for _, line := range strings.Split(f.Fix, "\n") {
				line, _, _ = strings.Cut(line, "#")
				words := strings.Fields(line)
				if len(words) < 2 || words[0] != "ckpt" || !slices.Contains(words, "--yes") {
					continue
				}
				ran++
				cmd := append(words[1:], "--proc", proc)
				if out, stderr, code := ckpt(t, cmd...); code != exitOK {
					t.Fatalf("%s: exit %d\n%s%s", line, code, out, stderr)
				}
			}
			if ran == 0 {
				t.Fatalf("no ckpt command to run in %q", f.Fix)
			}
			r, _ = doctorJSON(t, args...)
			for _, g := range r.Findings {
				if g.Severity != doctor.Info {
					t.Errorf("after the fix: %s %s: %s", g.Severity, g.Code, g.Summary)
				}
			}
		})
	}
}
