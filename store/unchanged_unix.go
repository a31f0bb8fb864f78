//go:build unix

package store

import (
	"io/fs"
	"syscall"
	"time"
)

func inode(info fs.FileInfo) (dev, ino uint64, ctime time.Time, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, time.Time{}, false
	}
	return uint64(st.Dev), uint64(st.Ino), statCtime(st), true
}
