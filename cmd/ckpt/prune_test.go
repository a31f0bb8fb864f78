package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
)

// podA is the pod that still runs in the cases (active-pods.json).
const podA = "aaaaaaaa-0000-4000-8000-00000000000a"

// fakeProc returns a proc tree with a kubelet process or without.
func fakeProc(t *testing.T, kubeletRunning bool) string {
	t.Helper()
	root := t.TempDir()
	procs := map[string]string{"1": "systemd\n", "42": "containerd\n"}
	if kubeletRunning {
		procs["4242"] = "kubelet\n"
	}
	for pid, comm := range procs {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, pid, "comm"), []byte(comm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// B07: the dry run lists exactly one stale container and CPUs 3-4 and
// writes nothing; --yes writes the file with default set 0,3-7 and keeps a
// byte-identical backup outside the kubelet directory.
func TestPruneB07(t *testing.T) {
	dir := copyCase(t, map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"})
	path := filepath.Join(dir, "cpu_manager_state")
	orig, _ := os.ReadFile(path)
	pods := casePath("B07-cpu-stale-entries-deleted-pods", "active-pods.json")

	out, stderr, code := ckpt(t, "prune", path, "--pods-from", pods)
	if code != exitBad {
		t.Errorf("dry run exit %d (%s)", code, stderr)
	}
	if strings.Count(out, "bbbbbbbb-0000-4000-8000-00000000000b") != 1 || !strings.Contains(out, "CPUs 3-4") ||
		!strings.Contains(out, "Stale:   1 entries") || !strings.Contains(out, "default CPU set 0,5-7 -> 0,3-7") ||
		!strings.Contains(out, "Dry run") {
		t.Errorf("dry run output:\n%s", out)
	}
	if now, _ := os.ReadFile(path); string(now) != string(orig) {
		t.Fatal("the dry run wrote")
	}

	// Refused while kubelet runs; the file is untouched.
	_, stderr, code = ckpt(t, "prune", path, "--pods-from", pods, "--yes", "--proc", fakeProc(t, true))
	if code != exitUsage || !strings.Contains(stderr, "kubelet") {
		t.Errorf("kubelet running: exit %d, %s", code, stderr)
	}
	if now, _ := os.ReadFile(path); string(now) != string(orig) {
		t.Fatal("written while kubelet runs")
	}

	backups := filepath.Join(t.TempDir(), "backups")
	out, stderr, code = ckpt(t, "prune", path, "--pods-from", pods, "--yes", "--proc", fakeProc(t, false), "--backup-dir", backups, "-o", "json")
	if code != exitOK {
		t.Fatalf("write exit %d: %s %s", code, out, stderr)
	}
	var res struct {
		Written bool   `json:"written"`
		Backup  string `json:"backup"`
		Removed []struct{ Pod, Name, Holds string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Written || len(res.Removed) != 1 || res.Removed[0].Holds != "CPUs 3-4" || filepath.Dir(res.Backup) != backups {
		t.Errorf("%+v", res)
	}
	if b, _ := os.ReadFile(res.Backup); string(b) != string(orig) {
		t.Error("the backup differs from the original")
	}
	data, _ := os.ReadFile(path)
	s, err := cpumanager.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.DefaultCPUSet != "0,3-7" || len(s.Entries) != 1 || s.Entries["aaaaaaaa-0000-4000-8000-00000000000a"]["app"] != "1-2" {
		t.Errorf("after prune: %+v", s)
	}
	// Pruning again: nothing to change, exit 0.
	if out, _, code := ckpt(t, "prune", path, "--pods-from", pods); code != exitOK || !strings.Contains(out, "Nothing to change") {
		t.Errorf("second prune: exit %d\n%s", code, out)
	}
}

// B15: one stale entry; after prune the file holds one entry. The default
// backup directory is beside the kubelet root directory, outside it.
func TestPruneB15(t *testing.T) {
	dir := copyCase(t, map[string]string{"device-plugins/kubelet_internal_checkpoint": "B15-device-stale-entries/kubelet_internal_checkpoint"})
	path := filepath.Join(dir, "device-plugins", "kubelet_internal_checkpoint")
	out, stderr, code := ckpt(t, "prune", path, "--keep-pods", "aaaaaaaa-0000-4000-8000-00000000000a", "--yes", "--proc", fakeProc(t, false))
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	if !strings.Contains(out, "bbbbbbbb-0000-4000-8000-00000000000b  trainer") {
		t.Errorf("output:\n%s", out)
	}
	data, _ := os.ReadFile(path)
	cp, err := devicemanager.Decode(data)
	if err != nil || len(cp.PodDeviceEntries) != 1 {
		t.Errorf("after prune: %+v %v", cp, err)
	}
	backups := filepath.Join(filepath.Dir(dir), "ckpt-backup")
	entries, _ := filepath.Glob(filepath.Join(backups, "[^.]*"))
	if len(entries) != 1 {
		t.Errorf("backups in %s: %v", backups, entries)
	}
}

// B05 and B08 through the machine flags.
func TestPruneMachine(t *testing.T) {
	dir := copyCase(t, map[string]string{
		"cpu_manager_state":    "B05-cpu-torn-multiwrite-leak-overlap/leak/cpu_manager_state",
		"memory_manager_state": "B08-memory-numa-total-drift-after-reboot/memory_manager_state",
	})
	proc := fakeProc(t, false)
	out, _, code := ckpt(t, "prune", filepath.Join(dir, "cpu_manager_state"), "--cpus", "0-7", "--yes", "--proc", proc)
	if code != exitOK || !strings.Contains(out, "leaked: 1-2") {
		t.Errorf("leak: exit %d\n%s", code, out)
	}
	out, _, code = ckpt(t, "prune", filepath.Join(dir, "memory_manager_state"), "--machine",
		casePath("B08-memory-numa-total-drift-after-reboot", "machine.json"), "--yes", "--proc", proc)
	if code != exitOK || !strings.Contains(out, "(-40 MiB)") || !strings.Contains(out, "(+40 MiB)") {
		t.Errorf("rebase: exit %d\n%s", code, out)
	}
	// Both files are now clean for doctor.
	r, code := doctorJSON(t, dir, "--machine", casePath("B08-memory-numa-total-drift-after-reboot", "machine.json"), "--cpus", "0-7")
	if code != exitOK {
		t.Errorf("doctor after prune: exit %d %+v", code, r.Findings)
	}
}

func TestPruneUsage(t *testing.T) {
	path := casePath("B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	for _, tc := range []struct {
		reason string
		args   []string
		want   int
	}{
		{"no pods and no machine", []string{"prune", path}, exitUsage},
		{"both pod flags", []string{"prune", path, "--keep-pods", podA, "--pods-from", "x"}, exitUsage},
		{"a missing file", []string{"prune", path + ".missing", "--keep-pods", podA}, exitUsage},
		{"a corrupt file", []string{"prune", casePath("B20-dra-plugin-corrupt-crashloop", "dra_manager_state"), "--keep-pods", podA}, exitBad},
		{"a V1 file to migrate first", []string{"prune", casePath("B30-panic-and-unactionable-errors", "valid-checksum-lost-cpu", "cpu_manager_state"), "--keep-pods", podA}, exitBad},
		{"--keep-pods words that are no pod UIDs", []string{"prune", path, "--keep-pods", "a,b"}, exitUsage},
	} {
		if _, _, code := ckpt(t, tc.args...); code != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.reason, code, tc.want)
		}
	}
}
