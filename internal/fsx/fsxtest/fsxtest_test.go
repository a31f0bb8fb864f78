package fsxtest_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/internal/fsx/fsxtest"
)

func TestFaultyFS(t *testing.T) {
	dir := t.TempDir()
	f := fsxtest.New(nil)
	f.Inject(fsxtest.Fault{Op: fsxtest.OpMkdirAll, Err: syscall.EROFS, Times: 1})
	sub := filepath.Join(dir, "sub")
	if err := f.MkdirAll(sub, 0o755); !errors.Is(err, syscall.EROFS) {
		t.Errorf("first MkdirAll = %v, want EROFS", err)
	}
	if err := f.MkdirAll(sub, 0o755); err != nil {
		t.Errorf("second MkdirAll (fault used up) = %v", err)
	}
	f.Inject(fsxtest.Fault{Op: fsxtest.OpWrite, Match: func(p string) bool { return filepath.Base(p) == "bad" }, Err: syscall.ENOSPC})
	for _, tt := range []struct {
		reason string
		name   string
		want   error
	}{
		{"matching path fails, every time", "bad", syscall.ENOSPC},
		{"other paths pass", "good", nil},
		{"still failing: Times 0 means always", "bad", syscall.ENOSPC},
	} {
		file, err := f.OpenFile(filepath.Join(sub, tt.name), os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		_, err = file.Write([]byte("x"))
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: Write = %v, want %v", tt.reason, err, tt.want)
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.Count(fsxtest.OpWrite, filepath.Join(sub, "bad")); got != 2 {
		t.Errorf("recorded %d writes of bad, want 2", got)
	}
	f.Reset()
	if len(f.Calls()) != 0 {
		t.Errorf("Reset kept calls")
	}
	f.Inject(fsxtest.Fault{Op: fsxtest.OpRename, Err: syscall.EXDEV})
	var le *os.LinkError
	if err := f.Rename(filepath.Join(sub, "good"), filepath.Join(sub, "x")); !errors.As(err, &le) || !errors.Is(err, syscall.EXDEV) {
		t.Errorf("Rename = %v, want *os.LinkError wrapping EXDEV", err)
	}
	for _, op := range []struct {
		op   fsxtest.Op
		call func() error
	}{
		{fsxtest.OpRemove, func() error { return f.Remove(sub) }},
		{fsxtest.OpReadFile, func() error { _, err := f.ReadFile(sub, 1); return err }},
		{fsxtest.OpReadDir, func() error { _, err := f.ReadDir(sub); return err }},
		{fsxtest.OpSyncDir, func() error { return f.SyncDir(sub) }},
		{fsxtest.OpLstat, func() error { _, err := f.Lstat(sub); return err }},
		{fsxtest.OpStat, func() error { _, err := f.Stat(sub); return err }},
		{fsxtest.OpOpenFile, func() error { _, err := f.OpenFile(sub, os.O_RDONLY, 0); return err }},
	} {
		f.Inject(fsxtest.Fault{Op: op.op, Err: syscall.EIO, Times: 1})
		if err := op.call(); !errors.Is(err, syscall.EIO) {
			t.Errorf("%s with a fault = %v, want EIO", op.op, err)
		}
	}
	file, err := f.OpenFile(filepath.Join(sub, "c"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Inject(fsxtest.Fault{Op: fsxtest.OpSync, Err: syscall.EIO, Times: 1})
	f.Inject(fsxtest.Fault{Op: fsxtest.OpClose, Err: syscall.EIO, Times: 1})
	if err := file.Sync(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Sync = %v", err)
	}
	if err := file.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v", err)
	}
}
