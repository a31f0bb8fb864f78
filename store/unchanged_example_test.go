package store_test

import (
	"fmt"
	"log"
	"os"

	"github.com/ckptkit/ckpt/store"
)

// Re-writing the same bytes costs nothing with WithSkipUnchanged: no
// temporary file, no fsync, no rename.
func ExampleWithSkipUnchanged() {
	dir, err := os.MkdirTemp("", "skip-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.NewFileStore(dir, store.WithSkipUnchanged())
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if err := s.Write("state", []byte(`{"pods":1}`)); err != nil {
			log.Fatal(err)
		}
	}
	before, _ := os.Stat(s.Path("state"))
	_ = s.Write("state", []byte(`{"pods":1}`)) // skipped: the file is untouched
	after, _ := os.Stat(s.Path("state"))
	fmt.Println(os.SameFile(before, after), before.ModTime().Equal(after.ModTime()))
	// Output: true true
}
