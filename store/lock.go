package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// LockFileName is the sidecar file in a FileStore's directory on which the
// directory lock is taken. The lock is on a file of its own, never on a
// checkpoint, because checkpoints are replaced by rename: a lock on the old
// file would not exclude a writer of the new one. Its name starts with ".",
// so it is never a key and never listed, by this package or by kubelet.
const LockFileName = ".ckpt.lock"

// LockError is the cause (inside an *OpError with Op "lock") when the
// directory lock (on the file LockFileName in Dir) was not obtained within
// the lock timeout. It wraps ErrLockTimeout.
type LockError struct {
	// Dir is the store's directory.
	Dir string
	// Exclusive tells whether the exclusive lock (Update, cleanup) or the
	// shared one (Write, Delete) was wanted.
	Exclusive bool
	// Waited is how long the call waited.
	Waited time.Duration
	// Holder describes the holder as far as it is known: what the
	// exclusive holder recorded in the lock file, or that another
	// goroutine of this process holds it; "" when unknown (shared holders
	// record nothing).
	Holder string
	// HolderPID is the holder's process ID when known, else 0.
	HolderPID int
}

// Error says what was waited for, how long, and who holds the lock.
func (e *LockError) Error() string {
	kind := "shared"
	if e.Exclusive {
		kind = "exclusive"
	}
	msg := fmt.Sprintf("%v after %v for the %s lock of directory %s", ErrLockTimeout, e.Waited.Round(time.Millisecond), kind, e.Dir)
	if e.Holder == "" {
		return msg + "; holder unknown (a writer holding it shared records nothing)"
	}
	return msg + "; held by " + e.Holder
}

// Unwrap returns ErrLockTimeout.
func (e *LockError) Unwrap() error { return ErrLockTimeout }

// procLocks holds one in-process lock per directory of the real file
// system, shared by every FileStore of this process on that directory. It
// orders this process's goroutines before they contend for the lock file,
// so that flock only arbitrates between processes (on NFS, where Linux
// emulates flock with POSIX locks, descriptors of one process would not
// exclude each other).
//
// A FileStore over another file system (a fault injector, a simulated one)
// has an in-process lock of its own, and relies on that file system's
// TryLock to exclude other stores: two simulated file systems in one test
// process are two machines, which must not share a lock because their paths
// are equal, and the registry must not keep them alive.
var procLocks sync.Map // cleaned directory -> *rwLock

func (s *FileStore) procLock() *rwLock {
	if _, real := s.opts.fs.(storefs.OS); !real {
		return s.ownLock
	}
	if l, ok := procLocks.Load(s.dir); ok {
		return l.(*rwLock)
	}
	l, _ := procLocks.LoadOrStore(s.dir, newRWLock())
	return l.(*rwLock)
}

// rwLock is a reader/writer lock whose acquisition gives up at a deadline
// (sync.RWMutex cannot). Waiting writers hold new readers back, so a stream
// of writes cannot starve an update.
type rwLock struct {
	mu             sync.Mutex
	readers        int
	writer         bool
	writersWaiting int
	changed        chan struct{} // closed and replaced at every release
}

func newRWLock() *rwLock { return &rwLock{changed: make(chan struct{})} }

// acquire takes the lock, exclusive or shared, waiting until deadline at
// most; it reports whether it got it.
func (l *rwLock) acquire(exclusive bool, deadline time.Time) (got bool) {
	l.mu.Lock()
	if exclusive {
		l.writersWaiting++
		defer func() {
			l.mu.Lock()
			l.writersWaiting--
			if !got {
				l.broadcast() // readers held back by this writer may go
			}
			l.mu.Unlock()
		}()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	expired := false
	for {
		// A waiting writer holds new readers back; a writer only needs
		// the lock to be free.
		if !l.writer && (exclusive && l.readers == 0 || !exclusive && l.writersWaiting == 0) {
			if exclusive {
				l.writer = true
			} else {
				l.readers++
			}
			l.mu.Unlock()
			return true
		}
		if expired {
			l.mu.Unlock()
			return false
		}
		changed := l.changed
		l.mu.Unlock()
		if wait := time.Until(deadline); wait <= 0 {
			expired = true
		} else {
			if timer == nil {
				timer = time.NewTimer(wait)
			}
			select {
			case <-changed:
			case <-timer.C:
				expired = true // one last look before giving up
			}
		}
		l.mu.Lock()
	}
}

// broadcast wakes every waiter; l.mu must be held.
func (l *rwLock) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// release releases a lock taken by acquire.
func (l *rwLock) release(exclusive bool) {
	l.mu.Lock()
	if exclusive {
		l.writer = false
	} else {
		l.readers--
	}
	l.broadcast()
	l.mu.Unlock()
}

// lockPath is the lock file of the store.
func (s *FileStore) lockPath() string { return filepath.Join(s.dir, LockFileName) }

// lock takes the directory lock (exclusive for Update and the cleanup,
// shared for Write and Delete), first in this process, then on the lock
// file, polling with back-off until the lock timeout. It returns the
// function that releases both. A timeout is an *OpError wrapping a
// *LockError.
func (s *FileStore) lock(key string, exclusive bool, timeout time.Duration) (unlock func(), err error) {
	if !s.opts.dirLock {
		return func() {}, nil
	}
	start := time.Now()
	deadline := start.Add(timeout)
	// Errors name the key's file, as for every other step; the cause names
	// the lock file.
	path := s.lockPath()
	if key != "" {
		path = s.Path(key)
	}
	pl := s.procLock()
	if !pl.acquire(exclusive, deadline) {
		return nil, &OpError{Op: "lock", Key: key, Path: path, Err: &LockError{
			Dir: s.dir, Exclusive: exclusive, Waited: time.Since(start), HolderPID: os.Getpid(),
			Holder: fmt.Sprintf("another goroutine of this process (pid %d)", os.Getpid()),
		}}
	}
	var owner []byte
	if exclusive {
		owner = fmt.Appendf(nil, "pid=%d cmd=%s since=%s\n", os.Getpid(), filepath.Base(os.Args[0]), start.UTC().Format(time.RFC3339))
	}
	backoff := 500 * time.Microsecond
	for {
		release, err := s.opts.fs.TryLock(s.lockPath(), exclusive, owner)
		if err == nil {
			return func() {
				_ = release() // a failed close still drops the lock
				pl.release(exclusive)
			}, nil
		}
		if !errors.Is(err, storefs.ErrLocked) {
			pl.release(exclusive)
			return nil, &OpError{Op: "lock", Key: key, Path: path, Err: err}
		}
		left := time.Until(deadline)
		if left <= 0 {
			pl.release(exclusive)
			holder, pid := s.recordedHolder()
			return nil, &OpError{Op: "lock", Key: key, Path: path, Err: &LockError{
				Dir: s.dir, Exclusive: exclusive, Waited: time.Since(start), Holder: holder, HolderPID: pid,
			}}
		}
		time.Sleep(min(backoff, left))
		backoff = min(2*backoff, 20*time.Millisecond)
	}
}

// recordedHolder reads what the exclusive holder wrote into the lock file
// ("pid=N cmd=... since=..."), if anything.
func (s *FileStore) recordedHolder() (holder string, pid int) {
	data, err := s.opts.fs.ReadFile(s.lockPath(), 512)
	if err != nil {
		return "", 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", 0
	}
	for _, field := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(field, "pid="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	return strconv.Quote(line) + " (as recorded in " + s.lockPath() + ")", pid
}
