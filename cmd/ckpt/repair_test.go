package main

import (
	"os"
	"strings"
	"testing"
)

func TestRepairEditedV4(t *testing.T) {
	e := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v4-k137", "cpu_manager_state")
	edited := strings.ReplaceAll(string(e.orig), `{\"app\":\"1-2\"}`, `{\"app\":\"1-3\"}`)
	os.WriteFile(e.file, []byte(edited), 0o600)
	e.orig = []byte(edited)

	out, stderr, code := runCkpt(t, "repair", e.file, "--proc", e.proc)
	if code != exitBad { // a dry run that would change the file
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, w := range []string{"dataChecksum", "Against:  the embedded V2 block, which still verifies",
		"changed  entries.aaaaaaaa-0000-4000-8000-00000000000a.app  1-2 -> 1-3", "Dry run"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	e.assertUntouched(t)

	e.kubeletRuns(t)
	if _, _, code := runCkpt(t, "repair", e.file, "--proc", e.proc, "--yes"); code != exitUsage {
		t.Errorf("kubelet running: exit %d", code)
	}
	e.assertUntouched(t)
	if out, stderr, code := runCkpt(t, "repair", e.file, "--proc", e.proc, "--yes", "--force"); code != exitOK || !strings.Contains(out, "Written:") {
		t.Fatalf("--yes --force: exit %d\n%s%s", code, out, stderr)
	}
	e.assertWritten(t, "v4")
	if !strings.Contains(string(e.current(t)), `"app":"1-3"}},"checksum"`) {
		t.Errorf("the embedded block was not rebuilt from data: %s", e.current(t))
	}
	if out, _, code := runCkpt(t, "repair", e.file, "--proc", e.proc); code != exitOK || !strings.Contains(out, "Nothing to repair") {
		t.Errorf("second repair: exit %d\n%s", code, out)
	}
}

// A one-checksum file edited after a ckpt write: the backup is the baseline.
func TestRepairAgainstBackup(t *testing.T) {
	e := newFixEnv(t, casesDir+"B01*/cpu_manager_state", "cpu_manager_state")
	if _, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.35", "--policy", "static", "--proc", e.proc, "--yes"); code != exitOK {
		t.Fatalf("migrate: %s", stderr)
	}
	// The backup holds the "none" file; edit the new file by hand.
	edited := strings.Replace(string(e.current(t)), `"defaultCpuSet":""`, `"defaultCpuSet":"0-3"`, 1)
	os.WriteFile(e.file, []byte(edited), 0o600)
	out, stderr, code := runCkpt(t, "repair", e.file, "--proc", e.proc)
	if code != exitBad || !strings.Contains(out, "Against:  the backup ") || !strings.Contains(out, "none -> static") ||
		!strings.Contains(out, "-> 0-3") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

func TestRepairRefusals(t *testing.T) {
	e := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v4-k137", "cpu_manager_state")
	os.WriteFile(e.file, e.orig[:40], 0o600)
	e.orig = e.orig[:40]
	if _, stderr, code := runCkpt(t, "repair", e.file, "--proc", e.proc, "--yes"); code != exitBad || !strings.Contains(stderr, "does not decode") {
		t.Errorf("truncated: exit %d %s", code, stderr)
	}
	e.assertUntouched(t)
	if _, _, code := runCkpt(t, "repair", e.file+".missing"); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
	// Without a baseline the new checksum covers the file as it is.
	e2 := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v2-k118-k135", "cpu_manager_state")
	os.WriteFile(e2.file, []byte(strings.Replace(string(e2.orig), "1-2", "1", 1)), 0o600)
	if out, _, code := runCkpt(t, "repair", e2.file, "--proc", e2.proc); code != exitBad || !strings.Contains(out, "no earlier content verifies") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
