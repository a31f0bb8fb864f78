package store

import (
	"time"

	"github.com/ckptkit/ckpt/internal/fsx"
)

// DefaultMaxReadSize is the default read limit of a FileStore: 64 MiB, far
// above any kubelet checkpoint, low enough that a runaway file cannot
// exhaust memory.
const DefaultMaxReadSize = 64 << 20

// DefaultStaleTempAge is how old a leftover temporary file must be before
// NewFileStore removes it. The grace period protects the temporary files of
// another FileStore that is writing to the same directory right now (kubelet
// opens several managers on one directory).
const DefaultStaleTempAge = time.Minute

// Option configures a FileStore. Options are sealed: only this package
// defines them.
type Option interface{ apply(*options) }

type options struct {
	fs           fsx.FS
	maxReadSize  int64
	staleTempAge time.Duration
}

// defaults are what a FileStore uses without options.
func defaults() options {
	return options{fs: fsx.OS{}, maxReadSize: DefaultMaxReadSize, staleTempAge: DefaultStaleTempAge}
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

// WithStaleTempAge sets how old a leftover temporary file of this store must
// be for NewFileStore to remove it: d == 0 removes all of them, d < 0
// disables the cleanup. The default is DefaultStaleTempAge.
func WithStaleTempAge(d time.Duration) Option {
	return optionFunc(func(o *options) { o.staleTempAge = d })
}

// WithFS replaces the file system (the default is the real one). It is the
// seam through which tests inject failures; fsx is internal, so only code in
// this module can use it.
func WithFS(fs fsx.FS) Option {
	return optionFunc(func(o *options) {
		if fs != nil {
			o.fs = fs
		}
	})
}
