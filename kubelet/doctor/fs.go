package doctor

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/ckptkit/ckpt/kubelet/machine"
)

// minFree is the free space below which checkpoint writes are at risk: a
// full node's checkpoints are a few hundred kilobytes, written through a
// temporary file of the same size.
const minFree = 16 << 20

// statFS reads what the file system says about a directory; tests replace
// it to fake a read-only or full file system.
var statFS = sysStatFS

// fsInfo is what the file system of a directory says about it.
type fsInfo struct {
	// writeErr is the error of an access(W_OK) check (nil: writable).
	writeErr error
	// free bytes and inodes available to unprivileged users; ok is false
	// when they are unknown.
	freeBytes, freeInodes uint64
	ok                    bool
}

// checkFS reports a read-only or non-writable kubelet directory, and a
// nearly full file system (B16, B28).
func (d *doctor) checkFS() {
	dirs := []string{d.opts.Dir}
	if info, err := os.Stat(d.opts.DevicePluginDir); err == nil && info.IsDir() {
		dirs = append(dirs, d.opts.DevicePluginDir)
	}
	for _, dir := range dirs {
		fi := statFS(dir)
		switch {
		case fi.writeErr == nil:
		case errors.Is(fi.writeErr, syscall.EROFS):
			d.add(Finding{Severity: Error, Code: CodeReadOnly, Path: dir, Summary: "read-only file system",
				Meaning: "kubelet cannot write its checkpoints here: every write fails (\"read-only file system\"), and " +
					"kubelet may then advise to \"drain this node and delete\" a checkpoint. Do not: the files are intact. " +
					"Make the file system writable (or point kubelet's --root-dir at a writable one).",
				Fix: "findmnt -T " + quote(dir) + "          # which mount is read-only\nmount -o remount,rw MOUNTPOINT"})
		case !d.isRoot():
			d.add(Finding{Severity: Info, Code: CodeNotWritable, Path: dir,
				Summary: fmt.Sprintf("not writable by this user (uid %d): %v", os.Geteuid(), fi.writeErr),
				Meaning: "kubelet runs as root and may well write here; ckpt's write commands need the same rights",
				Fix:     "sudo " + d.selfCommand()})
		default:
			d.add(Finding{Severity: Error, Code: CodeNotWritable, Path: dir, Summary: "not writable even by root: " + fi.writeErr.Error(),
				Meaning: "a security policy or an immutable attribute forbids writes; kubelet's checkpoint writes fail",
				Fix:     "ls -ldZ " + quote(dir) + "\nlsattr -d " + quote(dir)})
		}
		if !fi.ok {
			continue
		}
		if fi.freeBytes < minFree || fi.freeInodes == 0 {
			sev := Warning
			if fi.freeBytes < 1<<20 || fi.freeInodes == 0 {
				sev = Error
			}
			d.add(Finding{Severity: sev, Code: CodeDiskFull, Path: dir,
				Summary: fmt.Sprintf("file system nearly full: %s and %d inodes free", machine.FormatBytes(fi.freeBytes), fi.freeInodes),
				Meaning: "checkpoint writes fail with \"no space left on device\", which kubelet turns into admission " +
					"errors for pods that need CPUs, memory or devices; an interrupted write leaves a temporary dot-file " +
					"behind. This is retryable: free space, nothing needs to be deleted from kubelet's directory.",
				Fix: "df -h " + quote(dir) + "\ndf -i " + quote(dir)})
		}
	}
}

// checkMode reports a checkpoint that others may write.
func (d *doctor) checkMode(path string) {
	info, err := os.Lstat(path)
	if err != nil || info.Mode().Perm()&0o022 == 0 {
		return
	}
	d.add(Finding{Severity: Warning, Code: CodeMode, Path: path,
		Summary: fmt.Sprintf("writable by group or others (mode %v)", info.Mode().Perm()),
		Meaning: "kubelet writes its checkpoints with mode 0600; anyone who can write this file can change what kubelet " +
			"restores (a wrong checksum then stops kubelet)",
		Fix: "chmod 0600 " + quote(path)})
}
