package store_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"time"

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

// Read-modify-write without lost updates: Update holds the directory lock,
// against other goroutines and other processes, from the read to the write.
func ExampleFileStore_Update() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.NewFileStore(dir, store.WithLockTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := s.Update("counter", func(old []byte, found bool) ([]byte, error) {
				n, _ := strconv.Atoi(string(old))
				return strconv.AppendInt(nil, int64(n+1), 10), nil
			})
			var lockErr *store.LockError
			if errors.As(err, &lockErr) {
				log.Printf("directory %s busy, held by %s", lockErr.Dir, lockErr.Holder)
			}
		})
	}
	wg.Wait()
	data, _ := s.Read("counter")
	fmt.Println(string(data))
	// Output:
	// 10
}
