// Package store is a keyed blob store: the storage under the checkpoint
// manager. FileStore keeps one file per key in a directory and writes
// atomically and durably; its key grammar and on-disk layout are those of
// kubelet's pkg/kubelet/util/store, so both can share a directory.
//
// Every file operation goes through the storefs.FS seam (WithFS), so tests
// can inject errors or simulate crashes (ckpttest/crashfs). The guarantees
// are stated rule by rule in docs/durability.md, and proven there:
// enumerated crash states, injected faults, processes killed mid-write.
package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/store/storefs"
)

// Store is a keyed blob store. Keys must satisfy ValidateKey.
// Implementations are safe for concurrent use.
type Store interface {
	// Write stores data under key, replacing any previous value.
	Write(key string, data []byte) error
	// Read returns the value stored under key, or an error wrapping
	// ErrKeyNotFound.
	Read(key string) ([]byte, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
	// List returns the stored keys.
	List() ([]string, error)
}

// Updater is implemented by stores that can read, change and write a key as
// one step: Update calls fn with the current value (found is false, and old
// nil, when there is none) and stores what fn returns, excluding every other
// writer of the key (for FileStore, of the directory, in any process) from
// the read to the end of the write. When fn returns an error, or the write
// fails, nothing is stored and the error is returned. fn must not call the
// store.
type Updater interface {
	Update(key string, fn func(old []byte, found bool) ([]byte, error)) error
}

// The errors of the store, wrapped (in an *OpError for FileStore); test them
// with errors.Is.
var (
	// ErrKeyNotFound: no value is stored under the key. The text is
	// kubelet's.
	ErrKeyNotFound = errors.New("key is not found")
	// ErrInvalidKey: the key does not satisfy ValidateKey.
	ErrInvalidKey = errors.New("invalid key")
	// ErrTooLarge: the stored value is longer than the read limit.
	ErrTooLarge = storefs.ErrTooLarge
	// ErrNotRegular: the key names something other than a regular file (a
	// directory, FIFO, socket or device).
	ErrNotRegular = storefs.ErrNotRegular
	// ErrDurabilityUnknown: a write (or delete) took effect and is visible,
	// but the directory could not be flushed, so whether it survives a
	// power loss is unknown. The previous state may reappear after a crash.
	ErrDurabilityUnknown = errors.New("change is visible but its durability is unknown (directory fsync failed)")
	// ErrEscapes: the key is a symbolic link leading out of the directory,
	// which the store does not follow.
	ErrEscapes = storefs.ErrEscapes
	// ErrLockTimeout: the directory lock was not obtained within the lock
	// timeout; the error is a *LockError naming the directory and, when
	// known, the holder. Nothing was changed: the caller may retry.
	ErrLockTimeout = errors.New("timed out waiting for the directory lock")
)

// MaxKeyLength is the longest valid key, as in kubelet.
const MaxKeyLength = 250

// ValidateKey reports whether key is a valid key: 1 to MaxKeyLength
// characters matching ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$ (kubelet's
// rule). A valid key is a plain file name that never starts with a dot, so it
// cannot escape the directory or collide with a temporary file. The error
// wraps ErrInvalidKey; its text starts as kubelet's, "invalid key: %q".
func ValidateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w: %q: %s", ErrInvalidKey, key, reason)
	}
	return nil
}

// keyProblem returns why key is invalid, or "" when it is valid. It is the
// key regular expression written out, which avoids a regexp on every call.
func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLength:
		return "longer than " + strconv.Itoa(MaxKeyLength) + " characters"
	case !isAlnum(key[0]) || !isAlnum(key[len(key)-1]):
		return "must start and end with a letter or digit"
	}
	for i := 1; i < len(key)-1; i++ {
		if c := key[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return "may contain only letters, digits, '-', '_' and '.'"
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// OpError is the error of a FileStore operation: it names the operation, the
// key and the file, and wraps the cause (an os error wrapping the errno, so
// errors.Is(err, syscall.ENOSPC) works, and/or one of the sentinels above).
type OpError struct {
	// Op is the step that failed: "validate", "mkdir", "lock",
	// "create-temp", "write", "fsync", "close", "rename", "fsync-dir",
	// "read", "update" (the update function failed), "remove", "list".
	Op string
	// Key is the key ("" for list).
	Key string
	// Path is the key's file (the directory for list and mkdir).
	Path string
	// Err is the cause.
	Err error
}

// Error returns "store: <op> <key> (<path>): <cause>", leaving out the
// path when the cause already names it.
func (e *OpError) Error() string {
	msg := "store: " + e.Op
	if e.Key != "" {
		msg += " " + strconv.Quote(e.Key)
	}
	if e.Err == nil {
		return msg + " (" + e.Path + "): unknown error"
	}
	cause := e.Err.Error()
	// Most causes are os errors that already name the file: say it once.
	if e.Path != "" && !strings.Contains(cause, e.Path) {
		msg += " (" + e.Path + ")"
	}
	return msg + ": " + cause
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }
