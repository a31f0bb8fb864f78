package checkpointmanager

import (
	"errors"
	"fmt"

	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	"github.com/ckptkit/ckpt/store"
)

// Update is an all-or-nothing read-modify-write of one checkpoint. It reads
// the checkpoint stored under key into a new object made by fresh (left as
// fresh made it when there is none: found is false), lets change modify
// it, and stores it; it returns the stored object. On any error (reading, a
// corrupt checkpoint, change's own error, marshalling, writing) nothing is
// stored and the zero T is returned.
//
// Because change works on an object of its own, the caller's in-memory
// state is untouched until Update succeeds: adopt the returned object then,
// and on error keep the old state, which still matches the disk. That is
// the difference from updating memory first and writing after, where a
// failed write leaves memory and disk apart (case B26).
//
// With a manager of this package over a FileStore, the key is held from
// the read to the end of the write against this process's other goroutines
// and, through the directory lock, against other processes (see
// store.FileStore.Update), so concurrent updates are never lost (case B22).
// With another CheckpointManager, Update is a GetCheckpoint followed by a
// CreateCheckpoint, with no lock in between.
func Update[T Checkpoint](m CheckpointManager, key string, fresh func() T, change func(cp T, found bool) error) (T, error) {
	var zero T
	mgr, ok := m.(*manager)
	if !ok {
		return updateOther(m, key, fresh, change)
	}
	path := mgr.path(key)
	var result T
	step := func(old []byte, found bool) ([]byte, error) {
		cp := fresh()
		if isNil(cp) {
			return nil, ErrNilCheckpoint
		}
		if found {
			if int64(len(old)) > mgr.maxSize {
				return nil, fmt.Errorf("%w: %d bytes, limit %d", store.ErrTooLarge, len(old), mgr.maxSize)
			}
			if err := cp.UnmarshalCheckpoint(old); err != nil {
				return nil, err
			}
			if err := cp.VerifyChecksum(); err != nil {
				return nil, err
			}
		}
		if err := change(cp, found); err != nil {
			return nil, err
		}
		blob, err := cp.MarshalCheckpoint()
		if err != nil {
			return nil, fmt.Errorf("marshal: %w", err)
		}
		result = cp
		return blob, nil
	}
	unlock := mgr.locks.lock(key)
	defer unlock()
	var err error
	if u, ok := mgr.store.(store.Updater); ok {
		err = u.Update(key, step)
	} else {
		old, rerr := mgr.store.Read(key)
		found := rerr == nil
		var blob []byte
		switch {
		case rerr != nil && !errors.Is(rerr, store.ErrKeyNotFound):
			err = rerr
		default:
			if blob, err = step(old, found); err == nil {
				err = mgr.store.Write(key, blob)
			}
		}
	}
	if err != nil {
		return zero, managerError("update", key, path, err)
	}
	return result, nil
}

// updateOther is Update over a CheckpointManager of another package.
func updateOther[T Checkpoint](m CheckpointManager, key string, fresh func() T, change func(cp T, found bool) error) (T, error) {
	var zero T
	cp := fresh()
	if isNil(cp) {
		return zero, &cperrors.CheckpointError{Op: "update", Key: key, Err: ErrNilCheckpoint}
	}
	err := m.GetCheckpoint(key, cp)
	found := err == nil
	if err != nil && !errors.Is(err, cperrors.ErrCheckpointNotFound) {
		return zero, err
	}
	if err := change(cp, found); err != nil {
		return zero, &cperrors.CheckpointError{Op: "update", Key: key, Err: err}
	}
	if err := m.CreateCheckpoint(key, cp); err != nil {
		return zero, err
	}
	return cp, nil
}
