//go:build unix

package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// TryLock takes flock(2) on f without waiting: exclusive (LOCK_EX) or shared
// (LOCK_SH). The lock belongs to f's open file description, so two
// descriptors of one process conflict like two processes do; closing f
// releases it, and so does the death of the process.
//
// flock rather than an OFD lock (F_OFD_SETLK): both are per open file
// description, but flock exists on every Unix the syscall package supports
// (OFD locks are Linux-only and need x/sys for the constants). On NFS, Linux
// emulates flock with POSIX byte-range locks, which do not conflict within
// one process; the store adds an in-process lock for that reason.
func TryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return &fs.PathError{Op: "flock", Path: f.Name(), Err: fmt.Errorf("%w: %w", ErrLocked, err)}
		default:
			return &fs.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}
