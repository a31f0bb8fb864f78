package store_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/ckptkit/ckpt/store"
)

func ExampleFileStore() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.NewFileStore(dir, store.WithMaxReadSize(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	// Write returns once the value and its directory entry are on disk.
	if err := s.Write("my_state", []byte(`{"n":1}`)); err != nil {
		log.Fatal(err)
	}
	data, err := s.Read("my_state")
	fmt.Println(string(data), err)

	_, err = s.Read("other_state")
	fmt.Println(errors.Is(err, store.ErrKeyNotFound))

	err = s.Write("../escape", nil)
	fmt.Println(errors.Is(err, store.ErrInvalidKey))

	keys, _ := s.List()
	fmt.Println(keys)
	// Output:
	// {"n":1} <nil>
	// true
	// true
	// [my_state]
}
