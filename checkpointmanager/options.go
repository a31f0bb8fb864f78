package checkpointmanager

import "github.com/ckptkit/ckpt/store"

// DefaultMaxCheckpointSize is the largest checkpoint GetCheckpoint reads by
// default: 64 MiB, far above any kubelet checkpoint.
const DefaultMaxCheckpointSize = store.DefaultMaxReadSize

// Option configures NewCheckpointManagerWithOptions. Options are sealed: only
// this package defines them. Without options the manager behaves as
// NewCheckpointManager.
type Option interface{ apply(*options) }

type options struct {
	store   store.Store
	maxSize int64
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
