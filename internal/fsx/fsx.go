// Package fsx is the file-system seam of the store: every operation the store
// performs on disk goes through the FS interface, so that tests can inject a
// fake that fails chosen operations with chosen errnos (and, later, a file
// system that simulates crashes). OS is the real implementation.
//
// The interface is deliberately small: it holds exactly what an atomic,
// durable, bounded key/value file store needs and nothing else.
package fsx

import (
	"errors"
	"io/fs"
)

// ErrTooLarge is returned by ReadFile when a file holds more bytes than the
// limit it was given.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is returned by ReadFile when the path is not a regular file
// (a directory, FIFO, socket or device), which would either fail or block.
var ErrNotRegular = errors.New("not a regular file")

// FS is the set of file-system operations the store performs. Errors are
// returned as the os package returns them (*fs.PathError or *os.LinkError
// wrapping a syscall.Errno), so callers can match them with errors.Is.
// Implementations must be safe for concurrent use.
type FS interface {
	// OpenFile opens a file for writing, as os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Rename atomically replaces newpath with oldpath, as os.Rename.
	Rename(oldpath, newpath string) error
	// Remove removes a file, as os.Remove.
	Remove(name string) error
	// ReadFile reads a whole regular file of at most limit bytes. It returns
	// an error wrapping ErrTooLarge for a longer file, and ErrNotRegular for
	// anything but a regular file (following symbolic links).
	ReadFile(name string, limit int64) ([]byte, error)
	// ReadDir lists a directory sorted by name, as os.ReadDir.
	ReadDir(name string) ([]fs.DirEntry, error)
	// MkdirAll creates a directory and its parents, as os.MkdirAll.
	MkdirAll(path string, perm fs.FileMode) error
	// SyncDir flushes a directory's entries (creations, renames, removals)
	// to stable storage.
	SyncDir(path string) error
	// Lstat describes a file without following a symbolic link.
	Lstat(name string) (fs.FileInfo, error)
	// Stat describes a file, following symbolic links.
	Stat(name string) (fs.FileInfo, error)
}

// File is a file opened for writing by FS.OpenFile.
type File interface {
	// Name returns the path the file was opened with.
	Name() string
	// Write writes p, returning an error when fewer than len(p) bytes were
	// written.
	Write(p []byte) (int, error)
	// Sync flushes the file's content to stable storage. After a failed
	// Sync the file's state is unknown: the caller must not retry it.
	Sync() error
	// Close closes the file.
	Close() error
}
