package checkpointmanager

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	"github.com/ckptkit/ckpt/store"
)

// Checkpoint is a checkpoint's in-memory form, as in kubelet: it converts
// itself to and from bytes and checks its own checksum.
type Checkpoint interface {
	// MarshalCheckpoint returns the bytes to store (it may set the
	// checksum first).
	MarshalCheckpoint() ([]byte, error)
	// UnmarshalCheckpoint fills the checkpoint from stored bytes.
	UnmarshalCheckpoint(blob []byte) error
	// VerifyChecksum checks the checksum of the filled checkpoint.
	VerifyChecksum() error
}

// CheckpointManager stores checkpoints by key, as kubelet's does. It is safe
// for concurrent use; see the package documentation for the differences.
type CheckpointManager interface {
	// CreateCheckpoint persists checkpoint under checkpointKey, atomically
	// and durably, replacing any previous checkpoint.
	CreateCheckpoint(checkpointKey string, checkpoint Checkpoint) error
	// GetCheckpoint reads the checkpoint under checkpointKey into
	// checkpoint and verifies it; it returns errors.ErrCheckpointNotFound,
	// unwrapped, when there is none.
	GetCheckpoint(checkpointKey string, checkpoint Checkpoint) error
	// RemoveCheckpoint removes the checkpoint under checkpointKey; a
	// missing one is not an error.
	RemoveCheckpoint(checkpointKey string) error
	// ListCheckpoints returns the keys of the stored checkpoints.
	ListCheckpoints() ([]string, error)
}

// ErrNilCheckpoint is wrapped by the error returned when a nil Checkpoint,
// or an interface holding a nil pointer, is passed to the manager.
var ErrNilCheckpoint = errors.New("nil checkpoint")

// NewCheckpointManager returns a CheckpointManager keeping each checkpoint as
// a file in checkpointDir, which it creates when missing. The signature is
// kubelet's; NewCheckpointManagerWithOptions takes options.
func NewCheckpointManager(checkpointDir string) (CheckpointManager, error) {
	return NewCheckpointManagerWithOptions(checkpointDir)
}

// NewCheckpointManagerWithOptions is NewCheckpointManager with options.
//
// It is a separate function rather than a variadic parameter on
// NewCheckpointManager because a variadic parameter changes the function's
// type: code that stores kubelet's constructor in a
// func(string) (CheckpointManager, error) variable would stop compiling.
func NewCheckpointManagerWithOptions(checkpointDir string, opts ...Option) (CheckpointManager, error) {
	o := options{maxSize: DefaultMaxCheckpointSize}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	m := &manager{dir: checkpointDir, store: o.store, maxSize: o.maxSize, inPlaceGet: o.inPlaceGet}
	if m.store == nil {
		storeOpts := []store.Option{store.WithMaxReadSize(o.maxSize), store.WithFS(o.fs)}
		if o.skipUnchanged {
			storeOpts = append(storeOpts, store.WithSkipUnchanged())
		}
		fs, err := store.NewFileStore(checkpointDir, storeOpts...)
		if err != nil {
			return nil, managerError("create manager", "", checkpointDir, err)
		}
		m.store = fs
	}
	return m, nil
}

// manager implements CheckpointManager over a store.Store.
type manager struct {
	dir        string
	store      store.Store
	maxSize    int64
	inPlaceGet bool
	locks      keyLocks
}

var _ CheckpointManager = (*manager)(nil)

// path names key's file in errors ("" without a directory).
func (m *manager) path(key string) string {
	if m.dir == "" {
		return ""
	}
	return filepath.Join(m.dir, key)
}

// CreateCheckpoint marshals checkpoint, then writes it under the key's lock.
func (m *manager) CreateCheckpoint(checkpointKey string, checkpoint Checkpoint) error {
	path := m.path(checkpointKey)
	if isNil(checkpoint) {
		return managerError("create", checkpointKey, path, ErrNilCheckpoint)
	}
	blob, err := checkpoint.MarshalCheckpoint()
	if err != nil {
		return managerError("create", checkpointKey, path, fmt.Errorf("marshal: %w", err))
	}
	unlock := m.locks.lock(checkpointKey)
	err = m.store.Write(checkpointKey, blob)
	unlock()
	if err != nil {
		return managerError("create", checkpointKey, path, err)
	}
	return nil
}

// GetCheckpoint reads under the key's lock, then fills and verifies the
// caller's checkpoint in kubelet's order, restoring it when either fails
// (unless WithInPlaceGet).
func (m *manager) GetCheckpoint(checkpointKey string, checkpoint Checkpoint) error {
	path := m.path(checkpointKey)
	if isNil(checkpoint) {
		return managerError("get", checkpointKey, path, ErrNilCheckpoint)
	}
	unlock := m.locks.lock(checkpointKey)
	blob, err := m.store.Read(checkpointKey)
	unlock()
	if err != nil {
		if errors.Is(err, store.ErrKeyNotFound) || errors.Is(err, cperrors.ErrCheckpointNotFound) {
			// Unwrapped on purpose: kubelet callers compare with ==.
			return cperrors.ErrCheckpointNotFound
		}
		return managerError("get", checkpointKey, path, err)
	}
	// A FileStore is already bounded; this bounds any other store.
	if int64(len(blob)) > m.maxSize {
		return managerError("get", checkpointKey, path,
			fmt.Errorf("%w: %d bytes, limit %d", store.ErrTooLarge, len(blob), m.maxSize))
	}
	return m.fill(checkpointKey, path, checkpoint, blob)
}

// fill unmarshals blob into checkpoint and verifies it. Unless the manager
// fills in place, it snapshots the object first and restores it when either
// step fails, so that a failed get leaves it untouched.
func (m *manager) fill(key, path string, checkpoint Checkpoint, blob []byte) error {
	var snap *snapshot
	if !m.inPlaceGet {
		var err error
		if snap, err = takeSnapshot(checkpoint); err != nil {
			return managerError("get", key, path, err)
		}
	}
	fail := func(err error) error {
		if snap != nil {
			if rerr := snap.restore(); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return managerError("get", key, path, err)
	}
	if err := checkpoint.UnmarshalCheckpoint(blob); err != nil {
		return fail(err)
	}
	if err := checkpoint.VerifyChecksum(); err != nil {
		return fail(err)
	}
	return nil
}

// RemoveCheckpoint deletes under the key's lock.
func (m *manager) RemoveCheckpoint(checkpointKey string) error {
	unlock := m.locks.lock(checkpointKey)
	err := m.store.Delete(checkpointKey)
	unlock()
	if err != nil {
		return managerError("remove", checkpointKey, m.path(checkpointKey), err)
	}
	return nil
}

// ListCheckpoints lists without locking: a checkpoint being created or
// removed concurrently may or may not be listed.
func (m *manager) ListCheckpoints() ([]string, error) {
	keys, err := m.store.List()
	if err != nil {
		return nil, managerError("list", "", m.dir, err)
	}
	return keys, nil
}

// managerError builds a *CheckpointError. A *store.OpError cause is
// unwrapped into it, so that key and path are said once; its step is still
// named by the os error it wraps ("open", "sync", "rename", ...).
func managerError(op, key, path string, err error) error {
	var opErr *store.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		if opErr.Path != "" {
			path = opErr.Path
		}
		cause := opErr.Err
		if strings.HasPrefix(opErr.Op, "fsync") || opErr.Op == "close" || opErr.Op == "write" {
			// The os error says "sync"/"write" on the temporary file; say
			// which step of the atomic write it was.
			cause = fmt.Errorf("%s: %w", opErr.Op, cause)
		}
		err = cause
	}
	return &cperrors.CheckpointError{Op: op, Key: key, Path: path, Err: err}
}

// isNil reports whether cp is nil or holds a nil pointer, map, slice, func,
// channel or interface, on which its methods would likely panic.
func isNil(cp Checkpoint) bool {
	if cp == nil {
		return true
	}
	v := reflect.ValueOf(cp)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}
