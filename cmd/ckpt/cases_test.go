package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The cases below are reduced from public bug reports (testdata/cases/*/EXPECT.md):
// each test asserts the reading and diagnosing behaviour the case asks of
// verify and inspect.

func casePath(parts ...string) string {
	return filepath.Join(append([]string{cases}, parts...)...)
}

func checksumOf(r record, field string) (stored, computed uint64, ok bool) {
	for _, c := range r.Checksums {
		if c.Field == field {
			return c.Stored, c.Computed, true
		}
	}
	return 0, 0, false
}

// hasChecksum reports whether r lists a checksum of field with these values
// (a file whose layout is ambiguous lists one per candidate rule).
func hasChecksum(r record, field string, stored, computed uint64) bool {
	for _, c := range r.Checksums {
		if c.Field == field && c.Stored == stored && c.Computed == computed {
			return true
		}
	}
	return false
}

// B02: a 1.17 (V1) cpu_manager_state is valid V1, not corrupted; the two
// checksums quoted in kubernetes#84703 are reproduced exactly.
func TestCaseB02V1LegacyChecksum(t *testing.T) {
	r, code := one(t, casePath("B02-cpu-v1-legacy-checksum-typename", "cpu_manager_state"))
	if code != exitOK || r.Verdict != "valid" || r.Kind != "cpumanager" || r.Format != "v1" {
		t.Errorf("V1 file: exit %d, %+v; want valid cpumanager v1", code, r)
	}
	for _, tc := range []struct {
		reason string
		file   string
		want   uint64
	}{
		{"#84703 quotes 2479968155 for defaultCpuSet 0-3", "v1-static-0-3.json", 2479968155},
		{"#84703 quotes 1104188325 for defaultCpuSet 0,2-3", "v1-static-0,2-3.json", 1104188325},
	} {
		r, _ := one(t, casePath("B02-cpu-v1-legacy-checksum-typename", "checksum-vectors", tc.file))
		stored, computed, ok := checksumOf(r, "checksum")
		if !ok || computed != tc.want || stored != tc.want || r.Verdict != "valid" {
			t.Errorf("%s: verdict %s stored %d computed %d", tc.reason, r.Verdict, stored, computed)
		}
	}
}

// B12: a pre-1.20 device checkpoint is read with its one allocation; never
// reported as empty.
func TestCaseB12DevicePre120(t *testing.T) {
	path := casePath("B12-device-pre-1.20-format-silent-loss", "kubelet_internal_checkpoint")
	r, code := one(t, path)
	if code != exitOK || r.Verdict != "valid" || r.Kind != "devicemanager" || r.Format != "pre-1.20" {
		t.Fatalf("exit %d, %+v; want valid devicemanager pre-1.20", code, r)
	}
	out, _, _ := ckpt(t, "inspect", path)
	if strings.Contains(out, "(none)") {
		t.Errorf("inspect shows an empty table for a file with one allocation:\n%s", out)
	}
	if !strings.Contains(out, "1.20") {
		t.Errorf("inspect does not say that kubelet 1.20+ cannot read it:\n%s", out)
	}
}

// B17: legacy DRA files verify with the historical shape they were written
// with, each named, and both are flagged as unreadable by kubelet >= 1.31.
func TestCaseB17DRAShapes(t *testing.T) {
	for _, tc := range []struct {
		reason, file, shape string
	}{
		{"checksum made with the 1.29 ResourceHandle type", "dra_manager_state.k129", "1.29"},
		{"checksum made with the 1.30 ResourceHandle type", "dra_manager_state.k130", "1.30"},
	} {
		path := casePath("B17-dra-api-field-added-checksum", tc.file)
		r, code := one(t, path)
		if code != exitOK || r.Verdict != "valid" || r.Kind != "dra" {
			t.Errorf("%s: exit %d, %+v; want valid dra", tc.reason, code, r)
			continue
		}
		out, _, _ := ckpt(t, "inspect", path)
		if !strings.Contains(out, tc.shape+" shape") {
			t.Errorf("%s: inspect does not name the %s shape:\n%s", tc.reason, tc.shape, out)
		}
		if !strings.Contains(out, "1.31") {
			t.Errorf("%s: inspect does not say kubelet >= 1.31 cannot read it:\n%s", tc.reason, out)
		}
	}
}

// B18: the 1.30 file and the current-format file both verify, each in its format.
func TestCaseB18DRAUpgrade(t *testing.T) {
	legacy, _ := one(t, casePath("B18-dra-1.30-to-1.31-upgrade", "dra_manager_state"))
	current, _ := one(t, casePath("B18-dra-1.30-to-1.31-upgrade", "dra_manager_state.current-format"))
	if legacy.Verdict != "valid" || !strings.HasPrefix(legacy.Format, "fnv") {
		t.Errorf("legacy file: %+v; want valid fnv", legacy)
	}
	if current.Verdict != "valid" || current.Format != "crc32" {
		t.Errorf("current file: %+v; want valid crc32", current)
	}
}

// B25: intact, trailing garbage and truncated allocation checkpoints get
// three distinct diagnoses.
func TestCaseB25ThreeDiagnoses(t *testing.T) {
	for _, tc := range []struct {
		reason, dir, verdict, problem, text string
	}{
		{"a complete valid file", "intact", "valid", "", ""},
		{"a valid document followed by the tail of an older one", "trailing", "invalid", "trailing-bytes", "followed by"},
		{"the first two thirds of a valid file", "truncated", "invalid", "truncated", "truncated"},
	} {
		r, _ := one(t, casePath("B25-alloc-trailing-garbage-after-reboot", tc.dir, "allocated_pods_state"))
		if r.Verdict != tc.verdict || r.Problem != tc.problem || !strings.Contains(r.Error, tc.text) {
			t.Errorf("%s: verdict %s problem %q error %q; want %s %q", tc.reason, r.Verdict, r.Problem, r.Error, tc.verdict, tc.problem)
		}
	}
}

// B27: seven damaged files, three distinct diagnoses, none a checksum failure.
func TestCaseB27EmptyTruncatedZeroFilled(t *testing.T) {
	recs, code := records(t, casePath("B27-empty-truncated-after-hard-reboot"))
	if code != exitBad {
		t.Errorf("exit %d, want %d", code, exitBad)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7: %+v", len(recs), recs)
	}
	problems := map[string]int{}
	for _, r := range recs {
		if r.Verdict != "invalid" || r.Kind == "unknown" {
			t.Errorf("%s: verdict %s kind %s; want invalid of its kind", r.Path, r.Verdict, r.Kind)
		}
		problems[r.Problem]++
	}
	want := map[string]int{"empty": 5, "truncated": 1, "zero-filled": 1}
	if len(problems) != len(want) {
		t.Errorf("problems %v, want %v", problems, want)
	}
	for p, n := range want {
		if problems[p] != n {
			t.Errorf("problem %s: %d files, want %d", p, problems[p], n)
		}
	}
	out, _, _ := ckpt(t, "inspect", casePath("B27-empty-truncated-after-hard-reboot", "nul-filled", "cpu_manager_state"))
	if !strings.Contains(out, "durability failure") || strings.Contains(strings.ToLower(out), "checksum mismatch:") {
		t.Errorf("inspect does not label the zero-filled file a durability failure:\n%s", out)
	}
}

// B29: on an empty state directory, inspect exits 0 and reports five
// checkpoints absent, as normal.
func TestCaseB29EmptyDirIsNormal(t *testing.T) {
	out, stderr, code := ckpt(t, "inspect", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d (%s)", code, stderr)
	}
	if n := strings.Count(out, "absent (normal"); n != 5 {
		t.Errorf("%d absent (normal) lines, want 5:\n%s", n, out)
	}
	jsonOut, _, _ := ckpt(t, "inspect", "-o", "json", t.TempDir())
	for _, line := range strings.Split(strings.TrimSpace(jsonOut), "\n") {
		var e dirEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Present || e.Severity != "info" {
			t.Errorf("line %s: %+v %v", line, e, err)
		}
	}
}

// B30: a V1 file with a valid checksum but a lost CPU is valid with a
// semantic note; the same text with the other checksum is corrupt, with both
// values shown.
func TestCaseB30ActionableErrors(t *testing.T) {
	lost, code := one(t, casePath("B30-panic-and-unactionable-errors", "valid-checksum-lost-cpu", "cpu_manager_state"))
	if code != exitOK || lost.Verdict != "valid" || lost.Format != "v1" {
		t.Errorf("lost-cpu file: exit %d %+v; want valid v1", code, lost)
	}
	if !strings.Contains(strings.Join(lost.Notes, " "), "CPU 1") {
		t.Errorf("lost-cpu file: notes %q do not say CPU 1 is missing", lost.Notes)
	}
	bad, code := one(t, casePath("B30-panic-and-unactionable-errors", "bad-checksum", "cpu_manager_state"))
	if code != exitBad || bad.Verdict != "corrupt" || !hasChecksum(bad, "checksum", 2479968155, 1104188325) {
		t.Errorf("bad-checksum file: exit %d %+v; want corrupt, stored 2479968155, computed 1104188325", code, bad)
	}
	out, _, _ := ckpt(t, "verify", casePath("B30-panic-and-unactionable-errors", "bad-checksum", "cpu_manager_state"))
	if !strings.Contains(out, "2479968155") || !strings.Contains(out, "1104188325") {
		t.Errorf("text output lacks stored and computed values:\n%s", out)
	}
}
