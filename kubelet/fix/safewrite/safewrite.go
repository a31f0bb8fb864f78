// Package safewrite replaces a kubelet checkpoint file the way an operator
// tool must: never while kubelet runs, never without a durable backup kept
// outside kubelet's directory, always atomically and durably, and always
// reading the result back and checking it, restoring the original when the
// check fails.
//
// Replace is the only entry point. Its steps, in order:
//
//  1. The target must be an existing regular file (not a symbolic link).
//  2. Unless Options.Force, it scans ProcRoot/*/comm (and cmdline) for a
//     kubelet process and refuses with ErrKubeletRunning when it finds one,
//     or with ErrProcUnavailable when it cannot tell.
//  3. The backup directory must lie outside kubelet's root directory (the
//     directory of the target, or for device-plugins/... the one above it)
//     once symbolic links are resolved: kubelet must never list a backup.
//     It takes an exclusive lock on LockFileName in the backup directory,
//     so that two ckpt writers never interleave (ErrLocked when another
//     holds it).
//  4. It copies the original to a new backup file (mode 0600, created
//     exclusively, fsynced, its directory fsynced) and reads the copy back to
//     check that it is byte-identical.
//  5. It writes the new bytes through store.FileStore without the store's
//     directory lock (store.WithoutDirLock): temporary file in the same
//     directory, fsync, rename, directory fsync. The store's lock file would
//     stay in kubelet's directory, and kubelet's device manager deletes
//     files it does not know in device-plugins/; the lock of step 3 takes
//     its place, and kubelet, the other writer, is not running.
//  6. It reads the file back, checks the bytes, and calls verify on them. If
//     either check fails it writes the backup's bytes back (again through the
//     store) and returns an error wrapping ErrVerify.
//
// Replace never prints and never exits.
package safewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ckptkit/ckpt/internal/fsx"
	"github.com/ckptkit/ckpt/store"
)

// Options configures Replace. The zero value is usable: refuse while kubelet
// runs, back up to the default directory, use /proc and the real clock.
type Options struct {
	// BackupDir is where the backup of the original goes. Empty means
	// <directory of path>/../ckpt-backup, outside the checkpoint directory
	// (for device-plugins/kubelet_internal_checkpoint, <root>/../ckpt-backup)
	// so that kubelet never lists or reads it. It must not lie inside
	// kubelet's root directory (see KubeletRoot).
	BackupDir string
	// Force skips the check for a running kubelet.
	Force bool
	// ProcRoot is the proc file system scanned for a kubelet process;
	// empty means /proc. Tests point it at a fake tree.
	ProcRoot string
	// Now gives the time used in the backup's name; nil means time.Now.
	Now func() time.Time
}

// Report says what Replace did.
type Report struct {
	// Path is the file that was replaced.
	Path string
	// Backup is the backup copy of the original.
	Backup string
	// Bytes is the length of the data written.
	Bytes int
}

// The errors of Replace, wrapped; test them with errors.Is.
var (
	// ErrKubeletRunning: a kubelet process runs (the error is a
	// *KubeletRunningError naming it); stop kubelet or use Force.
	ErrKubeletRunning = errors.New("a kubelet process is running")
	// ErrProcUnavailable: the proc file system could not be read, so
	// whether kubelet runs is unknown; nothing was changed.
	ErrProcUnavailable = errors.New("cannot tell whether kubelet is running")
	// ErrNotRegular: the target is missing, a directory, a symbolic link
	// or another non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrBackup: the backup could not be made (or did not read back
	// identical), or the backup directory lies inside kubelet's root;
	// nothing was changed.
	ErrBackup = errors.New("backup failed")
	// ErrLocked: another ckpt writer holds the lock in the backup
	// directory; nothing was changed.
	ErrLocked = errors.New("another ckpt write is in progress")
	// ErrWrite: writing the new content failed; the original is in place
	// (the store removes its temporary file).
	ErrWrite = errors.New("write failed")
	// ErrVerify: the written file did not read back as expected or verify
	// rejected it; the error is a *VerifyError saying whether the original
	// was restored.
	ErrVerify = errors.New("verification of the written file failed")
)

// KubeletRunningError names the kubelet processes found. It wraps
// ErrKubeletRunning.
type KubeletRunningError struct {
	// PIDs are the process IDs found, in ProcRoot order.
	PIDs []int
}

// Error names the processes and says what to do.
func (e *KubeletRunningError) Error() string {
	ids := make([]string, len(e.PIDs))
	for i, p := range e.PIDs {
		ids[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("%v (pid %s): stop kubelet first, or force the write (ckpt: --force)", ErrKubeletRunning, strings.Join(ids, ", "))
}

// Unwrap returns ErrKubeletRunning.
func (e *KubeletRunningError) Unwrap() error { return ErrKubeletRunning }

// VerifyError reports a written file that failed its check. It wraps
// ErrVerify and the cause.
type VerifyError struct {
	// Path is the file that was written.
	Path string
	// Err is why the check failed.
	Err error
	// Restored tells whether the original was written back.
	Restored bool
	// RestoreErr is why restoring failed, when it did.
	RestoreErr error
	// Backup is the backup copy of the original.
	Backup string
}

// Error says why the check failed and where the original is.
func (e *VerifyError) Error() string {
	s := fmt.Sprintf("%v: %s: %v", ErrVerify, e.Path, e.Err)
	if e.Restored {
		return s + "; the original was restored from " + e.Backup
	}
	return s + fmt.Sprintf("; restoring the original failed (%v): copy it back by hand from %s", e.RestoreErr, e.Backup)
}

// Unwrap returns ErrVerify, the cause and the restore error (if any).
func (e *VerifyError) Unwrap() []error {
	errs := []error{ErrVerify, e.Err}
	if e.RestoreErr != nil {
		errs = append(errs, e.RestoreErr)
	}
	return errs
}

// maxSize bounds the original file read into memory; kubelet checkpoints
// are kilobytes.
const maxSize = 64 << 20

// LockFileName is the lock file Replace keeps in the backup directory.
const LockFileName = ".ckpt-write.lock"

// lockWait bounds how long Replace waits for another ckpt writer (a
// variable for tests).
var lockWait = 5 * time.Second

// storeOptions are passed to every store.NewFileStore after
// store.WithoutDirLock; tests inject faults through them.
var storeOptions []store.Option

// Replace atomically and durably replaces path with data, after a backup of
// the original, and checks the result with verify (nil: only the bytes are
// compared). See the package documentation for the exact steps. It is not
// safe to run concurrently with another writer of path other than through
// this package (the store's directory lock excludes other ckpt writers).
func Replace(path string, data []byte, verify func([]byte) error, opts Options) (Report, error) {
	path = filepath.Clean(path)
	rep := Report{Path: path}
	fi, err := os.Lstat(path)
	if err != nil {
		return rep, fmt.Errorf("%w: %s: %w", ErrNotRegular, path, err)
	}
	if !fi.Mode().IsRegular() {
		return rep, fmt.Errorf("%w: %s is %s", ErrNotRegular, path, describeMode(fi.Mode()))
	}
	if !opts.Force {
		pids, err := KubeletPIDs(opts.ProcRoot)
		if err != nil {
			return rep, err
		}
		if len(pids) > 0 {
			return rep, &KubeletRunningError{PIDs: pids}
		}
	}
	bdir := backupDir(path, opts)
	if err := checkBackupDir(path, bdir); err != nil {
		return rep, err
	}
	if err := mkdirDurable(bdir); err != nil {
		return rep, fmt.Errorf("%w: %w", ErrBackup, err)
	}
	unlock, err := lockBackupDir(bdir)
	if err != nil {
		return rep, err
	}
	defer unlock()
	original, err := readBounded(path)
	if err != nil {
		return rep, fmt.Errorf("%w: reading the original: %w", ErrBackup, err)
	}
	backup, err := makeBackup(path, original, bdir, opts)
	if err != nil {
		return rep, err
	}
	rep.Backup = backup

	// Dir, not Split: a bare file name ("cpu_manager_state", run from inside
	// kubelet's directory) has the directory ".", not "".
	dir, key := filepath.Dir(path), filepath.Base(path)
	st, err := store.NewFileStore(dir, append([]store.Option{store.WithoutDirLock()}, storeOptions...)...)
	if err != nil {
		return rep, fmt.Errorf("%w: %s: %w", ErrWrite, path, err)
	}
	if err := st.Write(key, data); err != nil {
		return rep, fmt.Errorf("%w: %s (the original is unchanged; backup %s): %w", ErrWrite, path, backup, err)
	}
	rep.Bytes = len(data)

	cause := checkWritten(st, key, data, verify)
	if cause == nil {
		return rep, nil
	}
	verr := &VerifyError{Path: path, Err: cause, Backup: backup}
	if err := st.Write(key, original); err != nil {
		verr.RestoreErr = err
	} else if back, err := st.Read(key); err != nil || !bytes.Equal(back, original) {
		verr.RestoreErr = fmt.Errorf("restored file does not read back identical (read error: %v)", err)
	} else {
		verr.Restored = true
	}
	return rep, verr
}

// checkWritten reads key back and checks it is data and passes verify.
func checkWritten(st *store.FileStore, key string, data []byte, verify func([]byte) error) error {
	back, err := st.Read(key)
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	if !bytes.Equal(back, data) {
		return fmt.Errorf("read back %d bytes that differ from the %d written", len(back), len(data))
	}
	if verify == nil {
		return nil
	}
	return verify(back)
}

// BackupPath returns where Replace would put the backup of path at time now
// if no file of that name exists yet: <backup dir>/<name>.<UTC timestamp>.
func BackupPath(path string, opts Options, now time.Time) string {
	return filepath.Join(backupDir(path, opts), filepath.Base(path)+"."+now.UTC().Format("20060102T150405Z"))
}

// backupDir is the directory of the backups of path.
func backupDir(path string, opts Options) string {
	if opts.BackupDir != "" {
		return filepath.Clean(opts.BackupDir)
	}
	return filepath.Join(KubeletRoot(path), "..", "ckpt-backup")
}

// KubeletRoot returns the kubelet root directory a checkpoint path lies
// in: its directory, or for a file in device-plugins/ the directory above.
func KubeletRoot(path string) string {
	dir := filepath.Dir(filepath.Clean(path))
	if filepath.Base(dir) == "device-plugins" {
		// <root>/device-plugins/kubelet_internal_checkpoint: one level up
		// is still kubelet's root directory.
		dir = filepath.Dir(dir)
	}
	return dir
}

// checkBackupDir refuses a backup directory inside kubelet's root: kubelet
// lists its root and device-plugins/ (and its device manager deletes what
// it does not know there), so a backup must live beside the root. Symbolic
// links are resolved on both sides.
func checkBackupDir(path, bdir string) error {
	root, err := resolve(KubeletRoot(path))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBackup, err)
	}
	b, err := resolve(bdir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBackup, err)
	}
	if rel, err := filepath.Rel(root, b); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%w: backup directory %s is inside kubelet's directory %s: choose one beside it "+
			"(the default is %s)", ErrBackup, bdir, KubeletRoot(path), filepath.Join(KubeletRoot(path), "..", "ckpt-backup"))
	}
	return nil
}

// resolve returns the absolute path p names once the symbolic links of its
// longest existing prefix are resolved (the rest does not exist yet).
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// lockBackupDir takes the exclusive lock of ckpt's writers in the backup
// directory, waiting up to lockWait, and returns its release.
func lockBackupDir(dir string) (func(), error) {
	name := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: lock file: %w", ErrBackup, err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := fsx.TryLock(f, true)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, fsx.ErrLocked) || time.Now().After(deadline) {
			_ = f.Close()
			if errors.Is(err, fsx.ErrLocked) {
				return nil, fmt.Errorf("%w (lock %s held for %v): wait for it to finish", ErrLocked, name, lockWait)
			}
			return nil, fmt.Errorf("%w: lock %s: %w", ErrBackup, name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeBackup writes original to a new file in the backup directory dir,
// durably, and checks it reads back identical.
func makeBackup(path string, original []byte, dir string, opts Options) (string, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	base := BackupPath(path, opts, now())
	var f *os.File
	var name string
	for i := 0; ; i++ {
		name = base
		if i > 0 {
			name = base + "." + strconv.Itoa(i)
		}
		var err error
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i >= 1000 {
			return "", fmt.Errorf("%w: %w", ErrBackup, err)
		}
	}
	fail := func(err error) (string, error) {
		_ = os.Remove(name) // a partial backup is worthless
		return "", fmt.Errorf("%w: %s: %w", ErrBackup, name, err)
	}
	if _, err := f.Write(original); err != nil {
		_ = f.Close()
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	back, err := readBounded(name)
	if err != nil {
		return fail(err)
	}
	if !bytes.Equal(back, original) {
		return fail(errors.New("backup does not read back identical to the original"))
	}
	return name, nil
}

// mkdirDurable creates dir (0700: backups may hold node state) and makes
// each new entry durable in its parent.
func mkdirDurable(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir flushes a directory's entries to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// readBounded reads a file of at most maxSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSize)
	}
	return data, nil
}

// describeMode names a non-regular file type for an error.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link (give the real path)"
	case m.IsDir():
		return "a directory"
	default:
		return "not a regular file (" + m.Type().String() + ")"
	}
}
