package fsx_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/internal/fsx"
	"github.com/ckptkit/ckpt/internal/fsx/fsxtest"
)

func TestOSReadFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		path   string
		limit  int64
		want   []byte
		err    error
	}{
		{"under the limit", file, 10, []byte("12345"), nil},
		{"exactly the limit", file, 5, []byte("12345"), nil},
		{"over the limit", file, 4, nil, fsx.ErrTooLarge},
		{"a negative limit reads nothing", file, -1, nil, fsx.ErrTooLarge},
		{"a directory is not a regular file", dir, 10, nil, fsx.ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 10, nil, fs.ErrNotExist},
	}
	for _, tt := range tests {
		got, err := fsx.OS{}.ReadFile(tt.path, tt.limit)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.reason, err, tt.err)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tt.path {
				t.Errorf("%s: err %v does not name the path", tt.reason, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: ReadFile = %q, %v; want %q", tt.reason, got, err, tt.want)
		}
	}
}

func TestOSWriteCycle(t *testing.T) {
	var fsys fsx.FS = fsx.OS{}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp")
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != tmp {
		t.Errorf("Name = %s", f.Name())
	}
	if _, err := f.Write([]byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file = %v", err)
	}
	final := filepath.Join(dir, "v")
	if err := fsys.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := fsys.SyncDir(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir of a missing directory = %v", err)
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "v" {
		t.Errorf("ReadDir = %v, %v", entries, err)
	}
	if err := os.Symlink("v", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if info, err := fsys.Lstat(filepath.Join(dir, "l")); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat = %v, %v", info, err)
	}
	if info, err := fsys.Stat(filepath.Join(dir, "l")); err != nil || !info.Mode().IsRegular() {
		t.Errorf("Stat = %v, %v", info, err)
	}
	if err := fsys.Remove(final); err != nil {
		t.Fatal(err)
	}
}

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
