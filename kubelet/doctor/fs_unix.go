//go:build linux || darwin || freebsd

package doctor

import "syscall"

// wOK is access(2)'s W_OK.
const wOK = 2

func sysStatFS(dir string) fsInfo {
	var fi fsInfo
	fi.writeErr = syscall.Access(dir, wOK)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil {
		fi.freeBytes = uint64(st.Bavail) * uint64(st.Bsize)
		fi.freeInodes = uint64(st.Ffree)
		fi.ok = true
	}
	return fi
}
