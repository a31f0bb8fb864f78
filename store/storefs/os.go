package storefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ckptkit/ckpt/internal/fsx"
)

// OS is the real file system. Operations on the last element of a name run
// in an os.Root opened on its parent directory, so a symbolic link planted
// under a key or temporary name is never followed out of the directory (the
// error then wraps ErrEscapes). The zero value is ready to use.
type OS struct{}

var _ FS = OS{}

// inDir opens the parent directory of name as an os.Root and returns it with
// the last element, or ok=false when name has no last element to confine
// ("/", "."), for which the caller falls back to the os function.
func inDir(name string) (root *os.Root, base string, ok bool, err error) {
	dir, base := filepath.Split(filepath.Clean(name))
	if base == "" || base == "." || base == ".." || base == string(filepath.Separator) {
		return nil, "", false, nil
	}
	if dir == "" {
		dir = "."
	}
	root, err = os.OpenRoot(dir)
	if err != nil {
		return nil, "", false, err
	}
	return root, base, true, nil
}

// fixErr makes an error of a root operation name the full path, and marks
// an escaping symbolic link with ErrEscapes. os.Root reports the escape with
// an unexported error, so it is recognised as a non-errno failure on a name
// that is a symbolic link.
func fixErr(root *os.Root, base, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	inner := pe.Err
	var errno syscall.Errno
	if !errors.As(inner, &errno) && !errors.Is(inner, fsx.ErrNotRegular) && !errors.Is(inner, fsx.ErrTooLarge) && !errors.Is(inner, fsx.ErrLocked) {
		if info, lerr := root.Lstat(base); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
			inner = fmt.Errorf("%w: %w", ErrEscapes, inner)
		}
	}
	return &fs.PathError{Op: pe.Op, Path: name, Err: inner}
}

// osFile is an *os.File opened in a root, named by its full path.
type osFile struct {
	*os.File
	name string
}

func (f osFile) Name() string { return f.name }

// OpenFile opens name inside its directory.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	root, base, ok, err := inDir(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return os.OpenFile(name, flag, perm)
	}
	defer root.Close()
	f, err := root.OpenFile(base, flag, perm)
	if err != nil {
		return nil, fixErr(root, base, name, err)
	}
	return osFile{File: f, name: name}, nil
}

// ReadFile opens name inside its directory without blocking (a FIFO must
// not hang the reader), checks that it is a regular file, and reads at most
// limit bytes.
func (OS) ReadFile(name string, limit int64) ([]byte, error) {
	root, base, ok, err := inDir(name)
	if err != nil {
		return nil, err
	}
	var f *os.File
	if ok {
		defer root.Close()
		f, err = root.OpenFile(base, os.O_RDONLY|fsx.OpenNonblock, 0)
		err = fixErr(root, base, name, err)
	} else {
		f, err = os.OpenFile(name, os.O_RDONLY|fsx.OpenNonblock, 0)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fsx.ReadRegular(f, name, limit)
}

// Rename renames within one directory through an os.Root; across
// directories it calls os.Rename (rename(2) never follows a symbolic link
// in its last elements).
func (OS) Rename(oldpath, newpath string) error {
	oldDir, oldBase := filepath.Split(filepath.Clean(oldpath))
	newDir, newBase := filepath.Split(filepath.Clean(newpath))
	if oldDir != newDir || oldBase == "" || newBase == "" {
		return os.Rename(oldpath, newpath)
	}
	root, _, ok, err := inDir(oldpath)
	if err != nil || !ok {
		return os.Rename(oldpath, newpath)
	}
	defer root.Close()
	if err := root.Rename(oldBase, newBase); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return &os.LinkError{Op: le.Op, Old: oldpath, New: newpath, Err: le.Err}
		}
		return fixErr(root, oldBase, oldpath, err)
	}
	return nil
}

// Remove removes name inside its directory (a symbolic link itself, never
// its target).
func (OS) Remove(name string) error {
	root, base, ok, err := inDir(name)
	if err != nil {
		return err
	}
	if !ok {
		return os.Remove(name)
	}
	defer root.Close()
	return fixErr(root, base, name, root.Remove(base))
}

// Lstat describes name without following a symbolic link.
func (OS) Lstat(name string) (fs.FileInfo, error) {
	root, base, ok, err := inDir(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return os.Lstat(name)
	}
	defer root.Close()
	info, err := root.Lstat(base)
	return info, fixErr(root, base, name, err)
}

// Stat describes name, following a symbolic link only inside its
// directory.
func (OS) Stat(name string) (fs.FileInfo, error) {
	root, base, ok, err := inDir(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return os.Stat(name)
	}
	defer root.Close()
	info, err := root.Stat(base)
	return info, fixErr(root, base, name, err)
}

// ReadDir calls os.ReadDir.
func (OS) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

// MkdirAll calls os.MkdirAll.
func (OS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

// SyncDir opens the directory and fsyncs it (a no-op where the platform
// cannot sync a directory).
func (OS) SyncDir(dir string) error { return fsx.SyncDir(dir) }

// TryLock opens (or creates, mode 0600) the lock file inside its directory
// and takes flock(2) on it without waiting (a no-op lock where the platform
// has none). The lock is released by unlock, by closing, or by the death of
// the process.
func (OS) TryLock(name string, exclusive bool, owner []byte) (func() error, error) {
	root, base, ok, err := inDir(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &fs.PathError{Op: "lock", Path: name, Err: syscall.EINVAL}
	}
	defer root.Close()
	f, err := root.OpenFile(base, os.O_RDWR|os.O_CREATE|fsx.OpenNonblock, 0o600)
	if err != nil {
		return nil, fixErr(root, base, name, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &fs.PathError{Op: "lock", Path: name, Err: fmt.Errorf("%w (mode %v)", ErrNotRegular, info.Mode().Type())}
		}
		return nil, err
	}
	if err := fsx.TryLock(f, exclusive); err != nil {
		f.Close()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
		}
		return nil, err
	}
	recorded := exclusive && len(owner) > 0
	if recorded {
		// Best effort: the owner only improves a waiter's error message.
		if f.Truncate(0) == nil {
			_, _ = f.WriteAt(owner, 0)
		}
	}
	return func() error {
		if recorded {
			_ = f.Truncate(0)
		}
		return f.Close() // releases the lock
	}, nil
}
