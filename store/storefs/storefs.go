// Package storefs is the file-system seam of store.FileStore (and so of the
// checkpoint manager): every file operation the library performs goes
// through the FS interface. OS is the real implementation; a test passes
// another one with store.WithFS or checkpointmanager.WithFS, for example the
// crash-simulating ckpttest/crashfs, or a wrapper of OS that injects errors.
//
// The package is public, and separate from store, so that such file systems
// can be written outside this module and without importing the store: an
// implementation needs only this small package.
//
// # Paths
//
// Names are paths as the os package takes them. The directory part of a name
// (the store's directory, given by the caller) is trusted; the last element
// (a key or a temporary name, which anyone able to write the directory can
// plant) is not: OpenFile, ReadFile, Stat, Lstat, Rename, Remove and TryLock
// resolve it inside its parent directory, and a symbolic link there is
// followed only while it stays inside that directory (OS uses os.Root).
// MkdirAll, ReadDir and SyncDir take directory paths and follow symbolic
// links as the os package does.
package storefs

import (
	"errors"
	"io/fs"

	"github.com/ckptkit/ckpt/internal/fsx"
)

// The errors of the seam, wrapped in the *fs.PathError of the failing call;
// test them with errors.Is.
var (
	// ErrTooLarge: ReadFile found more bytes than its limit.
	ErrTooLarge = fsx.ErrTooLarge
	// ErrNotRegular: ReadFile or TryLock found a directory, FIFO, socket or
	// device where a regular file was expected.
	ErrNotRegular = fsx.ErrNotRegular
	// ErrLocked: TryLock found a conflicting lock held by another open
	// file (of this or another process).
	ErrLocked = fsx.ErrLocked
	// ErrEscapes: the name is a symbolic link leading out of its directory,
	// which the seam refuses to follow.
	ErrEscapes = errors.New("symbolic link leads out of its directory")
)

// FS is the set of file-system operations of the store. Errors are returned
// as the os package returns them (*fs.PathError or *os.LinkError wrapping a
// syscall.Errno and naming the full path), so that callers can match them
// with errors.Is. Implementations must be safe for concurrent use.
type FS interface {
	// OpenFile opens a file for writing, as os.OpenFile (the store passes
	// O_WRONLY|O_CREATE|O_EXCL and mode 0600).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// ReadFile reads a whole regular file of at most limit bytes. It
	// returns an error wrapping ErrTooLarge for a longer file and
	// ErrNotRegular for anything but a regular file, and must not block on
	// a FIFO.
	ReadFile(name string, limit int64) ([]byte, error)
	// Rename atomically replaces newpath with oldpath, as os.Rename.
	Rename(oldpath, newpath string) error
	// Remove removes a file or an empty directory, as os.Remove.
	Remove(name string) error
	// Lstat describes a file without following a symbolic link.
	Lstat(name string) (fs.FileInfo, error)
	// Stat describes a file, following a symbolic link within its
	// directory.
	Stat(name string) (fs.FileInfo, error)
	// ReadDir lists a directory sorted by name, as os.ReadDir.
	ReadDir(dir string) ([]fs.DirEntry, error)
	// MkdirAll creates a directory and its parents, as os.MkdirAll.
	MkdirAll(dir string, perm fs.FileMode) error
	// SyncDir flushes a directory's entries (creations, renames, removals)
	// to stable storage.
	SyncDir(dir string) error
	// TryLock takes an advisory lock on the file name, creating it (mode
	// 0600) when missing, without waiting: exclusive, or shared with other
	// shared holders. The lock conflicts with locks taken through other
	// TryLock calls, in this process or another, and dies with the
	// process. A conflict is an error wrapping ErrLocked. An exclusive
	// holder's owner bytes (who holds it, for the error of a waiter) are
	// written into the file and cleared by unlock; owner is ignored for a
	// shared lock. unlock releases the lock.
	TryLock(name string, exclusive bool, owner []byte) (unlock func() error, err error)
}

// File is a file opened for writing by FS.OpenFile.
type File interface {
	// Name returns the path the file was opened with.
	Name() string
	// Write writes p, returning an error when fewer than len(p) bytes were
	// written.
	Write(p []byte) (int, error)
	// Sync flushes the file's content to stable storage. After a failed
	// Sync the content on disk is unknown and, on Linux, the unwritten
	// data may have been dropped: a caller must not retry it and treat a
	// later success as durable.
	Sync() error
	// Close closes the file.
	Close() error
}
