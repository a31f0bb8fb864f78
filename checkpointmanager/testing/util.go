// Package testing holds fakes for tests of code using the checkpoint
// manager, as kubelet's pkg/kubelet/checkpointmanager/testing does: MemStore,
// an in-memory store.Store, and (in example_checkpoint_formats/v1) kubelet's
// example checkpoint format.
package testing

import (
	"slices"
	"sync"

	"github.com/ckptkit/ckpt/store"
)

// MemStore is an in-memory store.Store, safe for concurrent use. Use it with
// checkpointmanager.WithStore.
//
// It differs from kubelet's MemStore in three ways, all to make it a faithful
// stand-in for store.FileStore: Read of a missing key returns an error
// wrapping store.ErrKeyNotFound (so a manager over it returns
// ErrCheckpointNotFound, not kubelet's unmatchable plain error); keys are
// validated with store.ValidateKey; values are copied in and out, so callers
// cannot change stored bytes behind its back. List is sorted.
type MemStore struct {
	mu  sync.Mutex
	mem map[string][]byte
}

var (
	_ store.Store   = (*MemStore)(nil)
	_ store.Updater = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{mem: make(map[string][]byte)}
}

// Write stores a copy of data under key.
func (s *MemStore) Write(key string, data []byte) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem == nil {
		s.mem = make(map[string][]byte)
	}
	s.mem[key] = slices.Clone(data)
	return nil
}

// Read returns a copy of the value under key, or an error wrapping
// store.ErrKeyNotFound.
func (s *MemStore) Read(key string) ([]byte, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.mem[key]
	if !ok {
		return nil, &store.OpError{Op: "read", Key: key, Err: store.ErrKeyNotFound}
	}
	return append([]byte{}, data...), nil
}

// Update calls fn with the value under key (found false, old nil, when
// there is none) and stores what it returns, holding the store's lock
// throughout; when fn fails nothing is stored and its error is returned
// inside a *store.OpError with Op "update". fn must not call the store.
func (s *MemStore) Update(key string, fn func(old []byte, found bool) ([]byte, error)) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found := s.mem[key]
	data, err := fn(slices.Clone(old), found)
	if err != nil {
		return &store.OpError{Op: "update", Key: key, Err: err}
	}
	if s.mem == nil {
		s.mem = make(map[string][]byte)
	}
	s.mem[key] = slices.Clone(data)
	return nil
}

// Delete removes key; a missing key is not an error.
func (s *MemStore) Delete(key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mem, key)
	return nil
}

// List returns the stored keys, sorted.
func (s *MemStore) List() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.mem))
	for k := range s.mem {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}
