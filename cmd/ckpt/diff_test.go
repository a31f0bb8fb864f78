package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	b07 := casePath("B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	b28 := casePath("B28-permission-readonly-misleading-advice", "cpu_manager_state")
	for _, tc := range []struct {
		reason string
		args   []string
		want   int
		out    []string
	}{
		{"equal", []string{"diff", b07, b07}, exitOK, []string{"same state"}},
		{"one entry removed", []string{"diff", b07, b28}, exitBad, []string{
			"~ default CPU set: 0,5-7 -> 0,3-7  (+CPUs 3-4)", "- bbbbbbbb-0000-4000-8000-00000000000b/db: 3-4", "2 changes"}},
		{"different kinds", []string{"diff", b07, casePath("B15-device-stale-entries", "kubelet_internal_checkpoint")}, exitUsage, nil},
		{"a missing file", []string{"diff", b07, b07 + ".missing"}, exitUsage, nil},
		{"B19 payloads: only empty values differ", []string{"diff", casePath("B19-driver-remarshal-checksum", "payload.on-disk.json"),
			casePath("B19-driver-remarshal-checksum", "payload.re-marshaled.json")}, exitBad, []string{"only empty values differ"}},
	} {
		out, _, code := ckpt(t, tc.args...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.reason, code, tc.want, out)
		}
		for _, w := range tc.out {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.reason, w, out)
			}
		}
	}
	out, _, code := ckpt(t, "diff", "-o", "json", b07, b28)
	var d struct {
		Kind    string
		Changes []struct{ Section, Key, Op string }
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitBad || d.Kind != "cpumanager" || len(d.Changes) != 2 {
		t.Errorf("json: %v %+v", err, d)
	}
}
