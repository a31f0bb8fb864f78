//go:build unix

package fsx_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/internal/fsx"
)

// TestTryLock: flock is per open file description, so two descriptors of
// one process conflict, and closing one releases its lock.
func TestTryLock(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	open := func() *os.File {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := open(), open()
	defer b.Close()
	if err := fsx.TryLock(a, true); err != nil {
		t.Fatal(err)
	}
	if err := fsx.TryLock(b, false); !errors.Is(err, fsx.ErrLocked) {
		t.Errorf("a second descriptor = %v, want ErrLocked", err)
	}
	a.Close()
	if err := fsx.TryLock(b, true); err != nil {
		t.Errorf("after the holder closed: %v", err)
	}
}
