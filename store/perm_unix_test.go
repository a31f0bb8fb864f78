//go:build unix

package store

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const b28Case = "../testdata/cases/B28-permission-readonly-misleading-advice/cpu_manager_state"

// asNonRoot reports whether the test may check file modes in this process.
// As root (which ignores file modes), it runs the test again in a child
// process as the user nobody, fails the test if the child fails, and
// returns false; it skips when the child cannot be started.
func asNonRoot(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	if os.Getenv("CKPT_TEST_AS_NOBODY") != "" {
		t.Fatal("still root in the child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("root ignores file modes and the test binary cannot be re-run: %v", err)
	}
	// The build directory is private to root: copy the binary where nobody
	// may run it.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // TempDir makes both 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "store.test")
	if err := copyFile(exe, bin); err != nil {
		t.Skipf("cannot copy the test binary: %v", err)
	}
	// The child runs there too, and reads the case's file from there.
	if err := copyFile(b28Case, filepath.Join(dir, filepath.Base(b28Case))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CKPT_TEST_AS_NOBODY=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Skipf("cannot run the test as nobody: %v", err)
		}
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("ran as nobody:\n%s", out)
	return false
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestRealPermissions runs case B28 for real: an unreadable checkpoint gives
// a permission error naming the path (no deletion advice), a read-only
// directory makes a write fail with EACCES and leaves the file untouched.
// Root ignores file modes, so as root it runs itself again as nobody.
func TestRealPermissions(t *testing.T) {
	if !asNonRoot(t) {
		return
	}
	name := b28Case
	if os.Getenv("CKPT_TEST_AS_NOBODY") != "" {
		name = filepath.Base(b28Case) // copied beside the binary
	}
	caseFile, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s, dir := newStore(t)
	path := filepath.Join(dir, "cpu_manager_state")
	if err := s.Write("cpu_manager_state", caseFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.Read("cpu_manager_state")
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "delete") {
		t.Errorf("Read of an unreadable file = %v, want fs.ErrPermission naming %s, no advice", err, path)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if err := s.Write("cpu_manager_state", []byte("new")); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Write into a read-only directory = %v, want fs.ErrPermission", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, caseFile) {
		t.Errorf("file changed to %q", got)
	}
}
