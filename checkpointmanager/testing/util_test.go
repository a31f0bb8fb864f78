package testing_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	cmtesting "github.com/ckptkit/ckpt/checkpointmanager/testing"
	"github.com/ckptkit/ckpt/store"
)

func TestMemStore(t *testing.T) {
	s := cmtesting.NewMemStore()
	value := []byte("v1")
	if err := s.Write("k", value); err != nil {
		t.Fatal(err)
	}
	value[0] = 'X' // the store keeps its own copy
	got, err := s.Read("k")
	if err != nil || string(got) != "v1" {
		t.Fatalf("Read = %q, %v; want v1", got, err)
	}
	got[0] = 'Y' // and hands out copies
	if again, _ := s.Read("k"); string(again) != "v1" {
		t.Errorf("stored value changed through a read copy: %q", again)
	}
	tests := []struct {
		reason string
		err    error
		want   error
	}{
		{"missing key is ErrKeyNotFound, like FileStore", func() error { _, err := s.Read("none"); return err }(), store.ErrKeyNotFound},
		{"invalid key on write", s.Write("../x", nil), store.ErrInvalidKey},
		{"invalid key on read", func() error { _, err := s.Read(""); return err }(), store.ErrInvalidKey},
		{"invalid key on delete", s.Delete(".x"), store.ErrInvalidKey},
		{"deleting a missing key is fine", s.Delete("none"), nil},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
			t.Errorf("%s: got %v, want %v", tt.reason, tt.err, tt.want)
		}
	}
	if err := s.Write("a", nil); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.List(); err != nil || fmt.Sprint(keys) != "[a k]" {
		t.Errorf("List = %v, %v", keys, err)
	}
	if err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read("k"); !errors.Is(err, store.ErrKeyNotFound) {
		t.Errorf("Read after Delete = %v", err)
	}
	var zero cmtesting.MemStore // the zero value works too
	if err := zero.Write("z", []byte("1")); err != nil {
		t.Errorf("zero MemStore Write: %v", err)
	}
}

func TestMemStoreConcurrent(t *testing.T) {
	s := cmtesting.NewMemStore()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("k%d", (g+i)%5)
				_ = s.Write(key, []byte{byte(i)})
				_, _ = s.Read(key)
				_, _ = s.List()
				_ = s.Delete(key)
			}
		})
	}
	wg.Wait()
}

func TestMemStoreUpdate(t *testing.T) {
	s := cmtesting.NewMemStore()
	errNo := errors.New("no")
	tests := []struct {
		reason string
		fn     func(old []byte, found bool) ([]byte, error)
		want   error
		value  string
	}{
		{"a missing key: found is false", func(old []byte, found bool) ([]byte, error) {
			if found || old != nil {
				return nil, fmt.Errorf("found=%v old=%q", found, old)
			}
			return []byte("1"), nil
		}, nil, "1"},
		{"an existing key: the old value", func(old []byte, found bool) ([]byte, error) { return append(old, '2'), nil }, nil, "12"},
		{"fn fails: nothing stored", func([]byte, bool) ([]byte, error) { return []byte("x"), errNo }, errNo, "12"},
	}
	for _, tt := range tests {
		err := s.Update("k", tt.fn)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: Update = %v, want %v", tt.reason, err, tt.want)
		}
		if got, _ := s.Read("k"); string(got) != tt.value {
			t.Errorf("%s: value %q, want %q", tt.reason, got, tt.value)
		}
	}
	if err := s.Update("../k", nil); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("invalid key: %v", err)
	}
	var zero cmtesting.MemStore
	if err := zero.Update("z", func([]byte, bool) ([]byte, error) { return nil, nil }); err != nil {
		t.Errorf("zero MemStore Update: %v", err)
	}
}
