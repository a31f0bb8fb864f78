//go:build !unix

package fsx

// openNonblock is not needed where FIFOs cannot be opened by path.
const openNonblock = 0

// syncDir is a no-op: on Windows and Plan 9 the os package cannot fsync a
// directory handle, so the durability of a rename is left to the file system.
func syncDir(path string) error { return nil }
