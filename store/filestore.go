package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// FileStore stores each key as a file of the same name in one directory.
//
// Write is atomic and durable: it writes a temporary file in the same
// directory, fsyncs it, closes it, renames it over the key's file and fsyncs
// the directory, and returns only when all of that succeeded. A reader sees
// the old value or the new one, never a mix; after a crash the file holds the
// old value or the new one. On any failure before the rename the temporary
// file is removed and the previous value is untouched. A failed fsync is
// reported, never retried on the same file descriptor (the kernel may have
// dropped the dirty pages). Each Write costs two fsyncs; concurrent writes
// in one directory share their directory fsyncs (group commit), so N of
// them cost N file fsyncs and about two directory fsyncs.
//
// Temporary files are named "." + key + ".ckpt-tmp-" + 16 hex digits (the key
// is cut to 200 characters so the name fits in 255 bytes), mode 0600. Names
// starting with "." are never valid keys, so temporary files never collide
// with keys and never appear in List, whether they are ours or kubelet's
// ("." + digits).
//
// Temporary files of a writer that crashed are removed by the next
// NewFileStore on the directory (see WithStaleTempAge).
//
// A FileStore is safe for concurrent use. Concurrent writes of one key each
// stay atomic and the last rename wins; callers that need an order (the
// checkpoint manager) serialize per key themselves. Write and Delete hold
// the directory lock shared, Update holds it exclusively, in this process
// and, through the lock file LockFileName, against other processes; the
// wait is bounded by the lock timeout (WithLockTimeout). Read and List take
// no lock: a rename is atomic, so they see a whole old or new value.
//
// Every file operation goes through the storefs.FS seam (WithFS). A key
// never names anything outside the directory: keys are plain file names
// (ValidateKey), and a symbolic link planted under a key or temporary name
// is not followed out of the directory (Read fails with ErrEscapes).
type FileStore struct {
	dir     string
	opts    options
	ownLock *rwLock // the in-process lock when the FS is not the real one
	// ownSyncer shares directory fsyncs when the FS is not the real one.
	ownSyncer *dirSyncer
	written   written // the last durable writes, for WithSkipUnchanged
}

var _ Store = (*FileStore)(nil)

const (
	tempMarker    = ".ckpt-tmp-"
	tempKeyPrefix = 200 // longest key prefix in a temporary name
	tempSuffixLen = 16  // hex digits of randomness
	tempAttempts  = 100 // names tried before giving up on EEXIST
	dirPerm       = 0o755
	filePerm      = 0o600
)

// NewFileStore returns a FileStore over dir. It creates dir (mode 0755, with
// its parents, each made durable in its parent) when missing, and removes
// the store's own leftover temporary files: all of them when the lock file
// exists and the directory lock can be taken at once (no writer is active),
// else those older than the stale age (see WithStaleTempAge). The cleanup is best effort and never
// fails the call. Files of any other name, kubelet's temporary files
// included, are left alone.
func NewFileStore(dir string, opts ...Option) (*FileStore, error) {
	o := defaults()
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if dir == "" {
		return nil, &OpError{Op: "mkdir", Err: errors.New("empty directory path")}
	}
	s := &FileStore{dir: filepath.Clean(dir), opts: o, ownLock: newRWLock(), ownSyncer: newDirSyncer()}
	if err := s.ensureDir(""); err != nil {
		return nil, err
	}
	s.removeLeftovers()
	return s, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Path returns the file that holds key (whether or not it exists).
func (s *FileStore) Path(key string) string { return filepath.Join(s.dir, key) }

// Write stores data under key atomically and durably (see FileStore). It
// creates the directory again if it has disappeared. Errors are *OpError;
// a failed directory fsync after the rename wraps ErrDurabilityUnknown: the
// new value is then visible but may not survive a crash.
func (s *FileStore) Write(key string, data []byte) error {
	path := s.Path(key)
	if err := ValidateKey(key); err != nil {
		return &OpError{Op: "validate", Key: key, Path: path, Err: err}
	}
	// An unchanged write (WithSkipUnchanged) needs neither the directory
	// nor the lock: one Lstat.
	if s.opts.skipSame && s.unchanged(key, path, data) {
		return nil
	}
	if err := s.ensureDir(key); err != nil {
		return err
	}
	unlock, err := s.lock(key, false, s.opts.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	return s.write(key, path, data)
}

// Update reads key, calls fn with its value (found is false, and old nil,
// when there is none) and writes what fn returns, as Write does, holding the
// directory lock exclusively from the read to the end of the write: no other
// writer of the directory, in this process or another one using this
// package, runs in between, so read-modify-write cycles never lose an
// update. When fn returns an error nothing is written and the error is
// returned inside an *OpError with Op "update"; read and write errors are
// those of Read and Write. fn must not call the store (it would wait for the
// lock it holds until the lock timeout).
func (s *FileStore) Update(key string, fn func(old []byte, found bool) ([]byte, error)) error {
	path := s.Path(key)
	if err := ValidateKey(key); err != nil {
		return &OpError{Op: "validate", Key: key, Path: path, Err: err}
	}
	if err := s.ensureDir(key); err != nil {
		return err
	}
	unlock, err := s.lock(key, true, s.opts.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	old, err := s.Read(key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrKeyNotFound) {
		return err
	}
	data, err := fn(old, found)
	if err != nil {
		return &OpError{Op: "update", Key: key, Path: path, Err: err}
	}
	return s.write(key, path, data)
}

// write is the atomic, durable write of Write and Update, under the lock:
// temporary file, write, fsync, close, rename, directory fsync. The
// directory fsync is shared with concurrent writers of the directory
// (dirSyncer): each still returns only after one that started after its
// rename.
func (s *FileStore) write(key, path string, data []byte) error {
	if s.opts.skipSame {
		if s.unchanged(key, path, data) {
			return nil
		}
		// Whatever happens next, the file is no longer known to hold
		// what was remembered.
		s.forget(key)
	}
	f, err := s.createTemp(key)
	if err != nil {
		return &OpError{Op: "create-temp", Key: key, Path: path, Err: err}
	}
	tmp := f.Name()
	fail := func(op string, cause error, closed bool) error {
		if !closed {
			_ = f.Close() // the first error is the one to report
		}
		if rmErr := s.opts.fs.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			cause = errors.Join(cause, fmt.Errorf("could not remove temporary file: %w", rmErr))
		}
		return &OpError{Op: op, Key: key, Path: path, Err: cause}
	}
	if _, err := f.Write(data); err != nil {
		return fail("write", err, false)
	}
	// A failed fsync is never retried: on Linux it may have dropped the
	// dirty pages, and a second fsync would then report success for data
	// that is not on disk. The temporary file is abandoned instead.
	if err := f.Sync(); err != nil {
		return fail("fsync", err, false)
	}
	if err := f.Close(); err != nil {
		return fail("close", err, true)
	}
	var id fileID
	var known bool
	if s.opts.skipSame {
		// The inode written, before anyone can replace it under the key.
		if info, err := s.opts.fs.Lstat(tmp); err == nil {
			id, known = identify(info)
		}
	}
	if err := s.opts.fs.Rename(tmp, path); err != nil {
		return fail("rename", err, true)
	}
	if err := s.syncDir(); err != nil {
		return &OpError{Op: "fsync-dir", Key: key, Path: path, Err: fmt.Errorf("%w: %w", ErrDurabilityUnknown, err)}
	}
	if s.opts.skipSame {
		// The rename changed the inode's change time: remember the file
		// as it is now, provided it is still ours.
		if known {
			info, err := s.opts.fs.Lstat(path)
			var now fileID
			if err == nil {
				now, known = identify(info)
			}
			known = err == nil && known && now.dev == id.dev && now.ino == id.ino
			id = now
		}
		s.remember(key, data, id, known)
	}
	return nil
}

// Read returns the value stored under key. Errors are *OpError wrapping
// ErrKeyNotFound (and fs.ErrNotExist) when there is none, ErrTooLarge when
// it is longer than the read limit, ErrNotRegular when the key names a
// directory or special file, ErrEscapes when it is a symbolic link leading
// out of the directory, or the os error.
func (s *FileStore) Read(key string) ([]byte, error) {
	path := s.Path(key)
	if err := ValidateKey(key); err != nil {
		return nil, &OpError{Op: "validate", Key: key, Path: path, Err: err}
	}
	data, err := s.opts.fs.ReadFile(path, s.opts.maxReadSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrKeyNotFound, err)
		}
		return nil, &OpError{Op: "read", Key: key, Path: path, Err: err}
	}
	return data, nil
}

// Delete removes key and fsyncs the directory. A missing key is not an
// error. Errors are *OpError; a failed directory fsync wraps
// ErrDurabilityUnknown (the key is gone but may reappear after a crash).
func (s *FileStore) Delete(key string) error {
	path := s.Path(key)
	if err := ValidateKey(key); err != nil {
		return &OpError{Op: "validate", Key: key, Path: path, Err: err}
	}
	if _, err := s.opts.fs.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to remove: no need for the lock
	}
	unlock, err := s.lock(key, false, s.opts.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	s.forget(key)
	if err := s.opts.fs.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return &OpError{Op: "remove", Key: key, Path: path, Err: err}
	}
	if err := s.syncDir(); err != nil {
		return &OpError{Op: "fsync-dir", Key: key, Path: path, Err: fmt.Errorf("%w: %w", ErrDurabilityUnknown, err)}
	}
	return nil
}

// List returns, sorted, the keys that hold a value: the valid keys naming a
// regular file or a symbolic link to one inside the directory. Unlike kubelet's FileStore it
// skips directories, sockets and other special files and names that are not
// valid keys (Read would reject them all), and a missing directory lists as
// empty. Like kubelet's, it skips every name starting with ".".
func (s *FileStore) List() ([]string, error) {
	entries, err := s.opts.fs.ReadDir(s.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return []string{}, nil
		}
		return nil, &OpError{Op: "list", Path: s.dir, Err: err}
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || keyProblem(name) != "" {
			continue
		}
		switch t := e.Type(); {
		case t.IsRegular():
		case t&fs.ModeSymlink != 0:
			info, err := s.opts.fs.Stat(filepath.Join(s.dir, name))
			if err != nil || !info.Mode().IsRegular() {
				continue // dangling, removed meanwhile, or not a file
			}
		default:
			continue
		}
		keys = append(keys, name)
	}
	return keys, nil
}

// ensureDir creates the directory when missing and then fsyncs the parent
// of every directory it created, so the new directory itself is durable.
// It looks at the path with Lstat, which the seam allows on any path: a
// symbolic link (such as /var/lib/kubelet pointing to another disk) counts
// as present and MkdirAll follows it. Errors are *OpError naming key (if
// any) and the directory.
func (s *FileStore) ensureDir(key string) error {
	var missing []string
	for d := s.dir; ; {
		info, err := s.opts.fs.Lstat(d)
		if err == nil {
			if !info.IsDir() && info.Mode()&fs.ModeSymlink == 0 {
				return &OpError{Op: "mkdir", Key: key, Path: s.dir, Err: &fs.PathError{Op: "mkdir", Path: d, Err: syscall.ENOTDIR}}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return &OpError{Op: "mkdir", Key: key, Path: s.dir, Err: err}
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if len(missing) == 0 {
		return nil
	}
	if err := s.opts.fs.MkdirAll(s.dir, dirPerm); err != nil {
		return &OpError{Op: "mkdir", Key: key, Path: s.dir, Err: err}
	}
	for _, d := range missing {
		if err := s.opts.fs.SyncDir(filepath.Dir(d)); err != nil {
			return &OpError{Op: "fsync-dir", Key: key, Path: s.dir, Err: fmt.Errorf("%w: %w", ErrDurabilityUnknown, err)}
		}
	}
	return nil
}

// createTemp creates a new temporary file for key with O_EXCL, mode 0600.
func (s *FileStore) createTemp(key string) (storefs.File, error) {
	prefix := "." + key[:min(len(key), tempKeyPrefix)] + tempMarker
	var err error
	for range tempAttempts {
		name := filepath.Join(s.dir, prefix+fmt.Sprintf("%0*x", tempSuffixLen, rand.Uint64()))
		var f storefs.File
		f, err = s.opts.fs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

// isOwnTemp reports whether name follows this store's temporary-file
// pattern: "." + key prefix + ".ckpt-tmp-" + 16 lower-case hex digits.
func isOwnTemp(name string) bool {
	i := strings.LastIndex(name, tempMarker)
	if !strings.HasPrefix(name, ".") || i < 2 {
		return false
	}
	suffix := name[i+len(tempMarker):]
	if len(suffix) != tempSuffixLen {
		return false
	}
	for _, c := range []byte(suffix) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	// The key prefix may have been cut mid-key, so check only its alphabet.
	prefix := name[1:i]
	if !isAlnum(prefix[0]) {
		return false
	}
	for _, c := range []byte(prefix) {
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// removeLeftovers removes the store's own temporary files: every one when
// the lock file exists and the directory lock can be taken at once (every
// writer of this package holds the lock, shared, while its temporary file
// exists, so none is in use), else those older than the stale age. Failures are ignored: the
// files are harmless, only untidy.
func (s *FileStore) removeLeftovers() {
	if s.opts.staleTempAge < 0 {
		return
	}
	age := s.opts.staleTempAge
	// Without a lock file no writer of this package has written here (each
	// creates it before its temporary file), so do not create one: opening
	// a store only to read must not add files.
	if _, err := s.opts.fs.Lstat(s.lockPath()); err == nil && s.opts.dirLock {
		if unlock, err := s.lock("", true, 0); err == nil {
			defer unlock()
			age = 0
		}
	}
	entries, err := s.opts.fs.ReadDir(s.dir)
	if err != nil {
		return
	}
	now := time.Now()
	for _, e := range entries {
		if !e.Type().IsRegular() || !isOwnTemp(e.Name()) {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		if age > 0 {
			info, err := s.opts.fs.Lstat(path)
			if err != nil || now.Sub(info.ModTime()) < age {
				continue
			}
		}
		_ = s.opts.fs.Remove(path)
	}
}
