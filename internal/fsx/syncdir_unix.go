//go:build unix

package fsx

import (
	"os"
	"syscall"
)

// openNonblock keeps open(2) of a FIFO from blocking; it has no effect on
// regular files.
const openNonblock = syscall.O_NONBLOCK

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
