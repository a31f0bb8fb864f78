// Package fsxtest provides a fault-injecting storefs.FS for tests: it passes
// every operation to an underlying file system (normally storefs.OS) except those
// matching an injected Fault, which fail with the chosen error, as the os
// package would report it (*fs.PathError or *os.LinkError wrapping the errno).
// It also records every operation, so tests can assert what was (not) done.
package fsxtest

import (
	"io/fs"
	"os"
	"sync"

	"github.com/ckptkit/ckpt/store/storefs"
)

// Op names an operation of storefs.FS or storefs.File.
type Op string

// The operations a Fault can target.
const (
	OpOpenFile Op = "open"
	OpWrite    Op = "write"
	OpSync     Op = "sync"
	OpClose    Op = "close"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpReadFile Op = "readfile"
	OpReadDir  Op = "readdir"
	OpMkdirAll Op = "mkdir"
	OpSyncDir  Op = "syncdir"
	OpLstat    Op = "lstat"
	OpStat     Op = "stat"
	OpTryLock  Op = "lock"
)

// Fault makes matching operations fail.
type Fault struct {
	// Op is the operation to fail.
	Op Op
	// Match selects paths (for Rename, the old path); nil matches all.
	Match func(path string) bool
	// Err is the cause, typically a syscall.Errno such as syscall.ENOSPC.
	Err error
	// Times is how many matching calls fail; 0 means all of them.
	Times int
}

// Call is one recorded operation.
type Call struct {
	Op   Op
	Path string
	// Err is what the call returned.
	Err error
}

// FS is a fault-injecting storefs.FS. The zero value is not usable; use New.
// It is safe for concurrent use.
type FS struct {
	base storefs.FS

	mu     sync.Mutex
	faults []*Fault
	calls  []Call
}

var _ storefs.FS = (*FS)(nil)

// New returns an FS over base (storefs.OS{} when nil) with no faults.
func New(base storefs.FS) *FS {
	if base == nil {
		base = storefs.OS{}
	}
	return &FS{base: base}
}

// Inject adds a fault; faults are tried in the order they were added.
func (f *FS) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault)
}

// Reset removes every fault and forgets the recorded calls.
func (f *FS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults, f.calls = nil, nil
}

// Calls returns a copy of the operations recorded so far.
func (f *FS) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Count returns how many calls of op on path were recorded.
func (f *FS) Count(op Op, path string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Op == op && c.Path == path {
			n++
		}
	}
	return n
}

// fault returns the injected cause for op on path, or nil.
func (f *FS) fault(op Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range f.faults {
		if ft.Op != op || (ft.Match != nil && !ft.Match(path)) || ft.Times < 0 {
			continue
		}
		if ft.Times > 0 {
			ft.Times--
			if ft.Times == 0 {
				ft.Times = -1 // used up
			}
		}
		return ft.Err
	}
	return nil
}

func (f *FS) record(op Op, path string, err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Op: op, Path: path, Err: err})
	return err
}

// pathErr reports cause as the os package would.
func pathErr(op Op, path string, cause error) error {
	return &fs.PathError{Op: string(op), Path: path, Err: cause}
}

// OpenFile opens through the base file system unless a fault matches.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	if cause := f.fault(OpOpenFile, name); cause != nil {
		return nil, f.record(OpOpenFile, name, pathErr(OpOpenFile, name, cause))
	}
	file, err := f.base.OpenFile(name, flag, perm)
	if err != nil {
		return nil, f.record(OpOpenFile, name, err)
	}
	f.record(OpOpenFile, name, nil)
	return &File{fs: f, base: file}, nil
}

// Rename renames through the base file system unless a fault matches oldpath.
func (f *FS) Rename(oldpath, newpath string) error {
	if cause := f.fault(OpRename, oldpath); cause != nil {
		return f.record(OpRename, oldpath, &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: cause})
	}
	return f.record(OpRename, oldpath, f.base.Rename(oldpath, newpath))
}

// Remove removes through the base file system unless a fault matches.
func (f *FS) Remove(name string) error {
	if cause := f.fault(OpRemove, name); cause != nil {
		return f.record(OpRemove, name, pathErr(OpRemove, name, cause))
	}
	return f.record(OpRemove, name, f.base.Remove(name))
}

// ReadFile reads through the base file system unless a fault matches.
func (f *FS) ReadFile(name string, limit int64) ([]byte, error) {
	if cause := f.fault(OpReadFile, name); cause != nil {
		return nil, f.record(OpReadFile, name, pathErr("open", name, cause))
	}
	data, err := f.base.ReadFile(name, limit)
	return data, f.record(OpReadFile, name, err)
}

// ReadDir lists through the base file system unless a fault matches.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if cause := f.fault(OpReadDir, name); cause != nil {
		return nil, f.record(OpReadDir, name, pathErr("open", name, cause))
	}
	entries, err := f.base.ReadDir(name)
	return entries, f.record(OpReadDir, name, err)
}

// MkdirAll creates through the base file system unless a fault matches.
func (f *FS) MkdirAll(path string, perm fs.FileMode) error {
	if cause := f.fault(OpMkdirAll, path); cause != nil {
		return f.record(OpMkdirAll, path, pathErr("mkdir", path, cause))
	}
	return f.record(OpMkdirAll, path, f.base.MkdirAll(path, perm))
}

// SyncDir syncs through the base file system unless a fault matches.
func (f *FS) SyncDir(path string) error {
	if cause := f.fault(OpSyncDir, path); cause != nil {
		return f.record(OpSyncDir, path, pathErr("sync", path, cause))
	}
	return f.record(OpSyncDir, path, f.base.SyncDir(path))
}

// Lstat describes through the base file system unless a fault matches.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	if cause := f.fault(OpLstat, name); cause != nil {
		return nil, f.record(OpLstat, name, pathErr("lstat", name, cause))
	}
	info, err := f.base.Lstat(name)
	return info, f.record(OpLstat, name, err)
}

// Stat describes through the base file system unless a fault matches.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if cause := f.fault(OpStat, name); cause != nil {
		return nil, f.record(OpStat, name, pathErr("stat", name, cause))
	}
	info, err := f.base.Stat(name)
	return info, f.record(OpStat, name, err)
}

// TryLock locks through the base file system unless a fault matches.
func (f *FS) TryLock(name string, exclusive bool, owner []byte) (func() error, error) {
	if cause := f.fault(OpTryLock, name); cause != nil {
		return nil, f.record(OpTryLock, name, pathErr("open", name, cause))
	}
	unlock, err := f.base.TryLock(name, exclusive, owner)
	return unlock, f.record(OpTryLock, name, err)
}

// File is a file opened through FS; its Write, Sync and Close can fail.
type File struct {
	fs   *FS
	base storefs.File
}

var _ storefs.File = (*File)(nil)

// Name returns the base file's name.
func (f *File) Name() string { return f.base.Name() }

// Write writes through the base file unless a fault matches; a failed write
// writes nothing.
func (f *File) Write(p []byte) (int, error) {
	name := f.base.Name()
	if cause := f.fs.fault(OpWrite, name); cause != nil {
		return 0, f.fs.record(OpWrite, name, pathErr(OpWrite, name, cause))
	}
	n, err := f.base.Write(p)
	return n, f.fs.record(OpWrite, name, err)
}

// Sync syncs through the base file unless a fault matches.
func (f *File) Sync() error {
	name := f.base.Name()
	if cause := f.fs.fault(OpSync, name); cause != nil {
		return f.fs.record(OpSync, name, pathErr(OpSync, name, cause))
	}
	return f.fs.record(OpSync, name, f.base.Sync())
}

// Close closes the base file; a faulted Close still closes it, so no file
// descriptor leaks, and then reports the fault.
func (f *File) Close() error {
	name := f.base.Name()
	err := f.base.Close()
	if cause := f.fs.fault(OpClose, name); cause != nil {
		return f.fs.record(OpClose, name, pathErr(OpClose, name, cause))
	}
	return f.fs.record(OpClose, name, err)
}
