// Package errors holds the errors of the checkpoint manager, with the same
// names, types and texts as kubelet's pkg/kubelet/checkpointmanager/errors,
// so that code written against kubelet compiles and behaves the same after
// changing its import path.
//
// Both eras of kubelet's corruption error are supported:
//
//   - Kubelet 1.33 and later return a *CorruptCheckpointError carrying the two
//     checksums; test for it with errors.Is(err, CorruptCheckpointError{}) or
//     errors.As(err, &target) with target of type *CorruptCheckpointError.
//   - Kubelet 1.32 and earlier returned the sentinel ErrCorruptCheckpoint and
//     callers compared with ==. ErrCorruptCheckpoint is kept, as a
//     *CorruptCheckpointError with zero checksums, so that
//     errors.Is(err, ErrCorruptCheckpoint) is true for every corruption error
//     of either era. A comparison with == holds only for the sentinel itself:
//     replace err == ErrCorruptCheckpoint by errors.Is when migrating.
//
// ErrCheckpointNotFound is returned unwrapped by the checkpoint manager, so
// both err == ErrCheckpointNotFound (kubelet style) and errors.Is work.
package errors

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCheckpointNotFound is returned, unwrapped, when a checkpoint does not
// exist. Its text is kubelet's, "checkpoint is not found".
var ErrCheckpointNotFound = errors.New("checkpoint is not found")

// ErrCorruptCheckpoint matches every checkpoint corruption error with
// errors.Is. It is the pre-1.33 kubelet name, kept for callers written
// against kubelet 1.32 and older. It is a *CorruptCheckpointError whose
// checksums are both zero; since CorruptCheckpointError.Is accepts any
// CorruptCheckpointError target whatever its fields, errors.Is(err,
// ErrCorruptCheckpoint) is true for any corruption error. Do not modify it.
var ErrCorruptCheckpoint error = &CorruptCheckpointError{}

// CorruptCheckpointError is reported when a checkpoint's stored checksum does
// not match the checksum computed from its content (kubelet 1.33+ semantics).
// Checkpoints of this module fill ActualCS with the computed checksum and
// ExpectedCS with the stored one. (Kubelet's DRA checkpoint fills them the
// other way round.)
//
// Check for it with
//
//	var csErr *CorruptCheckpointError
//	if errors.As(err, &csErr) { ... csErr.ActualCS ... }
//	if errors.Is(err, CorruptCheckpointError{}) { ... }
type CorruptCheckpointError struct {
	ActualCS, ExpectedCS uint64
}

// Error returns kubelet's exact text, "checkpoint is corrupted"; the checksums
// are in the fields (and in the message of a wrapping *CheckpointError).
func (err CorruptCheckpointError) Error() string {
	return "checkpoint is corrupted"
}

// Is reports whether target is a CorruptCheckpointError or a
// *CorruptCheckpointError, whatever its field values. This makes errors.Is
// work with CorruptCheckpointError{}, &CorruptCheckpointError{} and
// ErrCorruptCheckpoint alike.
func (err CorruptCheckpointError) Is(target error) bool {
	switch target.(type) {
	case CorruptCheckpointError, *CorruptCheckpointError:
		return true
	default:
		return false
	}
}

// CheckpointError is returned by the checkpoint manager for every failure
// except a missing checkpoint: it names the operation, the key and the file,
// and wraps the cause, so errors.Is and errors.As see through it (to
// CorruptCheckpointError, store errors, syscall errnos, ...).
type CheckpointError struct {
	// Op is the manager operation: "create", "get", "remove" or "list".
	Op string
	// Key is the checkpoint key ("" for list).
	Key string
	// Path is the checkpoint file ("" when the store is not a directory).
	Path string
	// Err is the cause.
	Err error
}

// Error names the operation, key and path, then the cause. For a corruption
// it adds both checksums, which kubelet's own text leaves out.
func (e *CheckpointError) Error() string {
	msg := e.Op + " checkpoint"
	if e.Key != "" {
		msg += fmt.Sprintf(" %q", e.Key)
	}
	if e.Err == nil {
		return msg + " (" + e.Path + "): unknown error"
	}
	cause := e.Err.Error()
	// Most causes are os errors that already name the file: say it once.
	if e.Path != "" && !strings.Contains(cause, e.Path) {
		msg += " (" + e.Path + ")"
	}
	msg += ": " + cause
	if cs, ok := corruption(e.Err); ok {
		msg += fmt.Sprintf(" (ActualCS=%d, ExpectedCS=%d)", cs.ActualCS, cs.ExpectedCS)
	}
	return msg
}

// Unwrap returns the cause.
func (e *CheckpointError) Unwrap() error { return e.Err }

// corruption finds the checksums of a corruption error in err's chain, as a
// pointer or as a value. The ErrCorruptCheckpoint sentinel carries none.
func corruption(err error) (CorruptCheckpointError, bool) {
	var ptr *CorruptCheckpointError
	if errors.As(err, &ptr) {
		if ptr == nil || ptr == ErrCorruptCheckpoint {
			return CorruptCheckpointError{}, false
		}
		return *ptr, true
	}
	var val CorruptCheckpointError
	if errors.As(err, &val) {
		return val, true
	}
	return CorruptCheckpointError{}, false
}
