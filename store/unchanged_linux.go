package store

import (
	"syscall"
	"time"
)

// statCtime is the inode change time, which no utimes call can set back.
func statCtime(st *syscall.Stat_t) time.Time { return time.Unix(st.Ctim.Unix()) }
