package storefs_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"syscall"

	"github.com/ckptkit/ckpt/store"
	"github.com/ckptkit/ckpt/store/storefs"
)

// flakyDisk is the real file system whose directory fsync fails, as on a
// disk going bad: a file system of one's own only needs to embed OS and
// override what it changes.
type flakyDisk struct{ storefs.OS }

func (flakyDisk) SyncDir(dir string) error {
	return &os.PathError{Op: "sync", Path: dir, Err: syscall.EIO}
}

// Injecting a failure under the store through the seam.
func ExampleFS() {
	dir, err := os.MkdirTemp("", "storefs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.NewFileStore(dir, store.WithFS(flakyDisk{}))
	if err != nil {
		log.Fatal(err)
	}
	err = s.Write("state", []byte("v2"))
	// The new value is visible, but whether it survives a power loss is
	// unknown.
	fmt.Println(errors.Is(err, store.ErrDurabilityUnknown), errors.Is(err, syscall.EIO))
	data, _ := s.Read("state")
	fmt.Println(string(data))
	// Output:
	// true true
	// v2
}
