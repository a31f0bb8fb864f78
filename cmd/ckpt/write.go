package main

import (
	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/fix/safewrite"
)

// Exit statuses of the commands that write (migrate, repair, prune): 0 when
// the file was written or nothing needed to change; 1 when a dry run shows
// changes, or the change is refused because of what the file holds (it
// would lose entries, say); 2 for usage errors and when the node prevents
// the write (a kubelet process runs, the disk refuses, the read-back check
// fails and the original is restored).

// fixFlags are the flags of every command that writes (migrate, repair,
// prune): the same flags with the same meaning.
type fixFlags struct {
	yes       bool
	backupDir string
	force     bool
	procRoot  string
}

func (ff *fixFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&ff.yes, "yes", false, "write the file (without it, only show what would change)")
	cmd.Flags().StringVar(&ff.backupDir, "backup-dir", "", "where to keep the backup of the original (default: <kubelet dir>/../ckpt-backup)")
	cmd.Flags().BoolVar(&ff.force, "force", false, "write even while a kubelet process runs (kubelet may overwrite the file, or read it half-way)")
	cmd.Flags().StringVar(&ff.procRoot, "proc", "/proc", "the proc file system scanned for a running kubelet")
	_ = cmd.Flags().MarkHidden("proc") // a test seam
}

func (ff *fixFlags) options() safewrite.Options {
	return safewrite.Options{BackupDir: ff.backupDir, Force: ff.force, ProcRoot: ff.procRoot}
}

// writeResult is what a command that wrote reports in JSON.
type writeResult struct {
	Written bool   `json:"written"`
	Backup  string `json:"backup,omitempty"`
	Bytes   int    `json:"bytes,omitempty"`
}

// writePlan writes data over path through safewrite when yes is set.
func writePlan(path string, data []byte, verify func([]byte) error, ff fixFlags) (writeResult, error) {
	if !ff.yes {
		return writeResult{}, nil
	}
	rep, err := safewrite.Replace(path, data, verify, ff.options())
	if err != nil {
		// Not written: kubelet runs, the disk refused, or what was written
		// did not read back right (and the original was restored). These
		// are conditions of the node, not findings in the file: status 2.
		return writeResult{Backup: rep.Backup}, &exitError{code: exitUsage, err: err}
	}
	return writeResult{Written: true, Backup: rep.Backup, Bytes: rep.Bytes}, nil
}

// kindFormat says "cpumanager v2", or the kind alone when the format is
// unknown (an invalid file has a kind but no format).
func kindFormat(kind check.Kind, format string) string {
	if format == "" {
		return string(kind)
	}
	return string(kind) + " " + format
}

// fixExit is the exit status of a command that writes, by the rule above:
// werr (the write failed, status 2, or was refused) first, then 1 for a dry
// run that would change the file.
func fixExit(werr error, changes bool, ff fixFlags) error {
	switch {
	case werr != nil:
		return werr
	case changes && !ff.yes:
		return &exitError{code: exitBad}
	}
	return nil
}
