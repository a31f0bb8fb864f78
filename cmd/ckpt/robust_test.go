package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const generated = "../../testdata/kubelet-generated"

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// withTimeout fails the test instead of hanging forever.
func withTimeout(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal("command did not return: it blocks")
	}
}

// Inputs a stranger tried on the first version of the tool: each must get
// a clear answer, never a hang, a silent skip or a false "valid".
func TestRobustness(t *testing.T) {
	cpuSmall := filepath.Join(generated, "cpumanager/small/cpu_manager_state")
	memSmall := filepath.Join(generated, "memorymanager/small/memory_manager_state")

	t.Run("a FIFO is reported, not read", func(t *testing.T) {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "cpu_manager_state")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		withTimeout(t, 10*time.Second, func() {
			if _, _, code := ckpt(t, "verify", fifo); code != exitUsage {
				t.Errorf("verify FIFO: exit %d, want %d", code, exitUsage)
			}
			recs, code := records(t, dir)
			if code != exitUsage || len(recs) != 1 || recs[0].Verdict != verdictUnreadable || !strings.Contains(recs[0].Error, "FIFO") {
				t.Errorf("verify dir with FIFO: exit %d, %+v", code, recs)
			}
			if _, _, code := ckpt(t, "inspect", dir); code != exitUsage {
				t.Errorf("inspect dir with FIFO: exit %d", code)
			}
		})
	})

	t.Run("a symlinked kubelet root is walked", func(t *testing.T) {
		real := t.TempDir()
		data, _ := os.ReadFile(cpuSmall)
		bad := strings.Replace(string(data), `"dataChecksum":`, `"dataChecksum":1`, 1)
		os.WriteFile(filepath.Join(real, "cpu_manager_state"), []byte(bad), 0o600)
		link := filepath.Join(t.TempDir(), "kubelet")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		recs, code := records(t, link)
		if code != exitBad || len(recs) != 1 || recs[0].Verdict != "corrupt" || !strings.HasPrefix(recs[0].Path, link) {
			t.Errorf("exit %d, %+v; want the corrupt file, named under the link", code, recs)
		}
	})

	t.Run("a checkpoint name that is a symlink is followed", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(t.TempDir(), "state")
		copyFile(t, cpuSmall, target)
		os.Symlink(target, filepath.Join(dir, "cpu_manager_state"))
		recs, code := records(t, dir)
		if code != exitOK || len(recs) != 1 || recs[0].Verdict != "valid" {
			t.Errorf("exit %d, %+v", code, recs)
		}
	})

	t.Run("a directory under a checkpoint name is reported", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "cpu_manager_state"), 0o755)
		recs, code := records(t, dir)
		if code != exitUsage || len(recs) != 1 || !strings.Contains(recs[0].Error, "directory") {
			t.Errorf("exit %d, %+v", code, recs)
		}
	})

	t.Run("another kind under a checkpoint name is invalid", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, memSmall, filepath.Join(dir, "cpu_manager_state"))
		recs, code := records(t, dir)
		if code != exitBad || len(recs) != 1 || recs[0].Verdict != "invalid" || !strings.Contains(recs[0].Error, "memorymanager") {
			t.Errorf("exit %d, %+v", code, recs)
		}
	})

	t.Run("an unknown CPU manager policy is invalid", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cpu_manager_state")
		os.WriteFile(path, []byte(`{"policyName":"bogus","defaultCpuSet":"0-3","checksum":0}`), 0o600)
		r, code := one(t, path)
		if code != exitBad || r.Verdict != "invalid" || !strings.Contains(r.Error, "bogus") {
			t.Errorf("exit %d, %+v", code, r)
		}
	})

	t.Run("control characters from a file are escaped", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cpu\x1b[2Jstate.json")
		os.WriteFile(path, []byte(`{"policyName":"none","defaultCpuSet":"0-3","checksum":12}`), 0o600)
		out, _, _ := ckpt(t, "verify", path)
		if strings.Contains(out, "\x1b") {
			t.Errorf("raw escape sequence in output: %q", out)
		}
	})

	t.Run("a large unrelated JSON file is skipped in a directory", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, cpuSmall, filepath.Join(dir, "cpu_manager_state"))
		f, _ := os.Create(filepath.Join(dir, "plugin-cache.json"))
		f.WriteString("{")
		f.Truncate(65<<20 + 1)
		f.Close()
		recs, code := records(t, dir)
		if code != exitOK || len(recs) != 1 {
			t.Errorf("exit %d, %+v", code, recs)
		}
	})

	t.Run("a byte-order mark is named", func(t *testing.T) {
		dir := t.TempDir()
		data, _ := os.ReadFile(cpuSmall)
		path := filepath.Join(dir, "cpu_manager_state")
		os.WriteFile(path, append([]byte("\xef\xbb\xbf"), data...), 0o600)
		r, code := one(t, path)
		if code != exitBad || r.Verdict != "invalid" || !strings.Contains(r.Error, "byte-order mark") {
			t.Errorf("exit %d, %+v", code, r)
		}
	})
}
