// Package fsx holds the platform-specific system calls under the store's
// file-system seam (storefs.OS), one file per operating-system quirk: the
// directory fsync, the non-blocking open that keeps a FIFO from hanging a
// reader, and the advisory lock. Everything else is portable and lives in
// storefs.
package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is returned by ReadRegular when a file holds more bytes than
// the limit it was given.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is returned by ReadRegular when the file is not a regular
// file (a directory, FIFO, socket or device), which would fail or block.
var ErrNotRegular = errors.New("not a regular file")

// ErrLocked is returned by TryLock when another open file description holds
// a conflicting lock.
var ErrLocked = errors.New("locked by another holder")

// OpenNonblock is the open(2) flag that keeps opening a FIFO from blocking
// (0 where FIFOs cannot be opened by path); it has no effect on regular
// files.
const OpenNonblock = openNonblock

// ReadRegular checks that f (opened as name) is a regular file and reads at
// most limit bytes of it. A longer file is an error wrapping ErrTooLarge, a
// file of another type one wrapping ErrNotRegular; errors are
// *fs.PathError naming name.
func ReadRegular(f *os.File, name string, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (mode %v)", ErrNotRegular, info.Mode().Type())}
	}
	limit = max(0, min(limit, 1<<62)) // room for limit+1 below
	if info.Size() > limit {
		return nil, tooLarge(name, info.Size(), limit)
	}
	// The size is only a hint (the file may grow while we read): read up
	// to one byte past the limit to detect a longer file. The buffer is
	// sized for the file plus that byte, so that a file that does not
	// change is read with one allocation of its own size (bytes.Buffer
	// would grow to twice that to keep room for its next read).
	buf := make([]byte, 0, min(info.Size(), limit)+1)
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew: let append grow the buffer
		}
		room := buf[len(buf):min(int64(cap(buf)), limit+1)]
		n, err := f.Read(room)
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
	}
	if int64(len(buf)) > limit {
		return nil, tooLarge(name, int64(len(buf)), limit)
	}
	return buf, nil
}

func tooLarge(name string, size, limit int64) error {
	return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: at least %d bytes, limit %d", ErrTooLarge, size, limit)}
}

// SyncDir opens the directory and fsyncs it, flushing its entries
// (creations, renames, removals) to stable storage; it is a no-op where the
// platform cannot sync a directory (see syncdir_*.go).
func SyncDir(path string) error { return syncDir(path) }
