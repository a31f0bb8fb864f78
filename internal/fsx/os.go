package fsx

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// OS is the real file system, through the os package.
type OS struct{}

var _ FS = OS{}

// OpenFile calls os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Rename calls os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove calls os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// ReadDir calls os.ReadDir.
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll calls os.MkdirAll.
func (OS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// Lstat calls os.Lstat.
func (OS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// Stat calls os.Stat.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// SyncDir opens the directory and fsyncs it (a no-op where the platform
// cannot sync a directory; see syncdir_*.go).
func (OS) SyncDir(path string) error { return syncDir(path) }

// ReadFile opens name without blocking (a FIFO must not hang the reader),
// checks that it is a regular file, and reads at most limit bytes.
func (OS) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (mode %v)", ErrNotRegular, info.Mode().Type())}
	}
	if limit < 0 {
		limit = 0
	}
	if info.Size() > limit {
		return nil, tooLarge(name, info.Size(), limit)
	}
	// The size is only a hint (the file may grow while we read): read one
	// byte past the limit to detect a longer file.
	var buf bytes.Buffer
	buf.Grow(int(info.Size()))
	n, err := buf.ReadFrom(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if n > limit {
		return nil, tooLarge(name, n, limit)
	}
	return buf.Bytes(), nil
}

func tooLarge(name string, size, limit int64) error {
	return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: at least %d bytes, limit %d", ErrTooLarge, size, limit)}
}
