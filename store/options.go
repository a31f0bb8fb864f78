package store

import (
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// DefaultMaxReadSize is the default read limit of a FileStore: 64 MiB, far
// above any kubelet checkpoint, low enough that a runaway file cannot
// exhaust memory.
const DefaultMaxReadSize = 64 << 20

// DefaultStaleTempAge is how old a leftover temporary file must be before
// NewFileStore removes it when it cannot take the directory lock (see
// WithStaleTempAge). The grace period protects the temporary files of a
// writer that is active in the directory right now.
const DefaultStaleTempAge = time.Minute

// DefaultLockTimeout is how long a FileStore waits for the directory lock
// by default (see WithLockTimeout).
const DefaultLockTimeout = 10 * time.Second

// Option configures a FileStore. Options are sealed: only this package
// defines them.
type Option interface{ apply(*options) }

type options struct {
	fs           storefs.FS
	maxReadSize  int64
	staleTempAge time.Duration
	lockTimeout  time.Duration
	dirLock      bool
	skipSame     bool
}

// defaults are what a FileStore uses without options.
func defaults() options {
	return options{
		fs:           storefs.OS{},
		maxReadSize:  DefaultMaxReadSize,
		staleTempAge: DefaultStaleTempAge,
		lockTimeout:  DefaultLockTimeout,
		dirLock:      true,
	}
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxReadSize bounds Read: a value longer than n bytes is an error
// wrapping ErrTooLarge. n <= 0 selects DefaultMaxReadSize.
func WithMaxReadSize(n int64) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultMaxReadSize
		}
		o.maxReadSize = n
	})
}

// WithStaleTempAge sets which leftover temporary files of this store
// NewFileStore removes when it cannot take the directory lock at once (a
// writer is active, or the lock is disabled): those at least d old. d == 0
// removes all of them, d < 0 disables the cleanup altogether. The default
// is DefaultStaleTempAge. When NewFileStore does take the lock (the lock
// file exists and nobody holds it), no writer of this package holds a
// temporary file, so it removes every leftover whatever its age (unless
// d < 0).
func WithStaleTempAge(d time.Duration) Option {
	return optionFunc(func(o *options) { o.staleTempAge = d })
}

// WithLockTimeout sets how long Write, Delete and Update wait for the
// directory lock before failing with an error wrapping ErrLockTimeout.
// d <= 0 selects DefaultLockTimeout: the wait is never unbounded.
func WithLockTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			d = DefaultLockTimeout
		}
		o.lockTimeout = d
	})
}

// WithoutDirLock disables the cross-process directory lock (the lock file
// LockFileName): Write, Delete and Update then exclude other goroutines of
// this process only, and NewFileStore removes only stale temporary files.
// Use it on a directory where no lock file may be created.
func WithoutDirLock() Option {
	return optionFunc(func(o *options) { o.dirLock = false })
}

// WithSkipUnchanged makes Write (and Update) skip a write whose bytes equal
// those this FileStore last wrote under the key, when the key's file is
// still the very file that write made durable: no temporary file, no
// fsync, no rename (case B32: a re-apply of the same state costs nothing).
// The skip keeps the durability contract, since those bytes are on disk
// already. A file replaced or modified since, by anyone (another store,
// another process, kubelet), is written again, even with equal bytes; so
// is every key after Delete and in a new FileStore. The store keeps a copy
// of the last bytes written under each key (memory: the size of the
// stored values). Off by default, because a write then no longer refreshes
// the file's modification time.
func WithSkipUnchanged() Option {
	return optionFunc(func(o *options) { o.skipSame = true })
}

// WithFS replaces the file system (the default is storefs.OS, the real
// one), for example by ckpttest/crashfs to simulate crashes, or by a
// wrapper that injects errors.
func WithFS(fsys storefs.FS) Option {
	return optionFunc(func(o *options) {
		if fsys != nil {
			o.fs = fsys
		}
	})
}
