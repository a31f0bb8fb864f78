//go:build unix

package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO named like a key must neither block Read nor appear in List.
func TestFIFO(t *testing.T) {
	s, dir := newStore(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := s.Read("pipe"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Read of a FIFO = %v, want ErrNotRegular", err)
	}
	if keys, err := s.List(); err != nil || fmt.Sprint(keys) != "[]" {
		t.Errorf("List = %v, %v; want []", keys, err)
	}
}
