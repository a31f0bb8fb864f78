package checkpointmanager

import (
	"github.com/ckptkit/ckpt/store"
	"github.com/ckptkit/ckpt/store/storefs"
)

// DefaultMaxCheckpointSize is the largest checkpoint GetCheckpoint reads by
// default: 64 MiB, far above any kubelet checkpoint.
const DefaultMaxCheckpointSize = store.DefaultMaxReadSize

// Option configures NewCheckpointManagerWithOptions. Options are sealed: only
// this package defines them. Without options the manager behaves as
// NewCheckpointManager.
type Option interface{ apply(*options) }

type options struct {
	store         store.Store
	fs            storefs.FS
	maxSize       int64
	inPlaceGet    bool
	skipUnchanged bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxCheckpointSize makes GetCheckpoint refuse checkpoints longer than n
// bytes with an error wrapping store.ErrTooLarge. n <= 0 selects
// DefaultMaxCheckpointSize.
func WithMaxCheckpointSize(n int64) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultMaxCheckpointSize
		}
		o.maxSize = n
	})
}

// WithStore keeps checkpoints in s instead of a store.FileStore over the
// checkpoint directory (for example a testing.MemStore, or a FileStore with
// options of its own). The directory then serves only to name paths in
// errors and may be empty.
func WithStore(s store.Store) Option {
	return optionFunc(func(o *options) { o.store = s })
}

// WithFS makes the manager's FileStore do its file operations through fsys
// instead of the real file system: for example ckpttest/crashfs, to
// crash-test code that uses the manager, or a wrapper injecting errors. It
// has no effect together with WithStore.
func WithFS(fsys storefs.FS) Option {
	return optionFunc(func(o *options) { o.fs = fsys })
}

// WithInPlaceGet restores kubelet's GetCheckpoint exactly: the caller's
// object is filled in place and, when decoding or verification fails, left
// as far as decoding got, instead of being restored. Code ported from
// kubelet that inspects the half-filled object after a failed get (the
// cpumanager V4 and memorymanager V3 "non-empty data means no fallback"
// rule) needs it.
func WithInPlaceGet() Option {
	return optionFunc(func(o *options) { o.inPlaceGet = true })
}

// WithSkipUnchanged makes CreateCheckpoint write nothing, no temporary file,
// no fsync, no rename, when the checkpoint marshals to the bytes this
// manager last wrote durably under the key and the file is still the one
// that write made (store.WithSkipUnchanged): re-applying the same state
// costs only the marshalling (case B32). A file replaced or modified since,
// by anyone, is written again. It has no effect together with WithStore
// (give that store the option itself).
func WithSkipUnchanged() Option {
	return optionFunc(func(o *options) { o.skipUnchanged = true })
}
