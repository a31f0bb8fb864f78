//go:build !unix

package store

import (
	"io/fs"
	"time"
)

// inode is unknown here: WithSkipUnchanged never skips.
func inode(fs.FileInfo) (dev, ino uint64, ctime time.Time, ok bool) {
	return 0, 0, time.Time{}, false
}
