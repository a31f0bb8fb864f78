//go:build !unix

package fsx

import "os"

// TryLock is a no-op where the syscall package offers no advisory lock
// (Windows, Plan 9): the store is then protected against concurrent use
// within one process only.
func TryLock(f *os.File, exclusive bool) error { return nil }
