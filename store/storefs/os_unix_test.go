//go:build unix

package storefs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/store/storefs"
)

func TestOSTryLock(t *testing.T) {
	var fsys storefs.FS = storefs.OS{}
	lock := filepath.Join(t.TempDir(), ".lock")
	tests := []struct {
		reason          string
		first, second   bool // exclusive?
		secondConflicts bool
	}{
		{"shared locks coexist", false, false, false},
		{"exclusive excludes shared", true, false, true},
		{"shared excludes exclusive", false, true, true},
		{"exclusive excludes exclusive, even in one process", true, true, true},
	}
	for _, tt := range tests {
		unlock1, err := fsys.TryLock(lock, tt.first, []byte("pid 1"))
		if err != nil {
			t.Fatalf("%s: first lock: %v", tt.reason, err)
		}
		if tt.first {
			if got, _ := os.ReadFile(lock); string(got) != "pid 1" {
				t.Errorf("%s: the exclusive holder's owner was not recorded: %q", tt.reason, got)
			}
		}
		unlock2, err := fsys.TryLock(lock, tt.second, nil)
		if tt.secondConflicts {
			var pe *fs.PathError
			if !errors.Is(err, storefs.ErrLocked) || !errors.As(err, &pe) || pe.Path != lock {
				t.Errorf("%s: second lock = %v, want ErrLocked naming the file", tt.reason, err)
			}
		} else if err != nil {
			t.Errorf("%s: second lock = %v", tt.reason, err)
		} else if err := unlock2(); err != nil {
			t.Error(err)
		}
		if err := unlock1(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(lock); len(got) != 0 {
			t.Errorf("%s: owner %q left after unlock", tt.reason, got)
		}
		// Released: an exclusive lock is free again.
		unlock3, err := fsys.TryLock(lock, true, nil)
		if err != nil {
			t.Fatalf("%s: lock after release: %v", tt.reason, err)
		}
		unlock3()
	}
	info, err := os.Stat(lock)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode = %v, %v; want 0600", info, err)
	}
	dir := filepath.Dir(lock)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err == nil {
		if _, err := fsys.TryLock(filepath.Join(dir, "fifo"), true, nil); !errors.Is(err, storefs.ErrNotRegular) {
			t.Errorf("a FIFO as lock file = %v, want ErrNotRegular", err)
		}
	}
	if _, err := fsys.TryLock(string(filepath.Separator), true, nil); err == nil {
		t.Errorf("TryLock(/) succeeded")
	}
}
