//go:build unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestPlantedSymlinks: a symbolic link planted under a key, or under the
// lock file's name, is never followed out of the directory.
func TestPlantedSymlinks(t *testing.T) {
	outsideDir := t.TempDir()
	secret := filepath.Join(outsideDir, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, dir := newStore(t)
	if err := s.Write("inside", []byte("in")); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"abs": secret, "rel": filepath.Join("..", filepath.Base(outsideDir), "secret"), "alias": "inside"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		reason string
		key    string
		want   error
	}{
		{"an absolute link out is not read", "abs", ErrEscapes},
		{"a relative link out is not read", "rel", ErrEscapes},
	}
	for _, tt := range tests {
		data, err := s.Read(tt.key)
		var opErr *OpError
		if !errors.Is(err, tt.want) || !errors.As(err, &opErr) || opErr.Path != filepath.Join(dir, tt.key) {
			t.Errorf("%s: Read = %q, %v; want an *OpError naming the path wrapping %v", tt.reason, data, err, tt.want)
		}
	}
	if got, err := s.Read("alias"); err != nil || string(got) != "in" {
		t.Errorf("a link inside the directory: Read = %q, %v", got, err)
	}
	if keys, err := s.List(); err != nil || fmt.Sprint(keys) != "[alias inside]" {
		t.Errorf("List = %v, %v; want the links out left out", keys, err)
	}
	// Writing a key replaces the link itself, never its target.
	if err := s.Write("abs", []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(dir, "abs")); err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
		t.Errorf("the key is not a regular 0600 file after the write: %v, %v", info, err)
	}
	if err := s.Delete("rel"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(secret); string(got) != "secret" {
		t.Errorf("the file outside changed: %q", got)
	}
	// A link planted as the lock file is not followed either: writes fail
	// rather than lock (or create) a file outside.
	s2, dir2 := newStore(t, WithLockTimeout(1))
	lockTarget := filepath.Join(outsideDir, "lock")
	if err := os.Symlink(lockTarget, filepath.Join(dir2, LockFileName)); err != nil {
		t.Fatal(err)
	}
	err := s2.Write("k", []byte("v"))
	var opErr *OpError
	if !errors.Is(err, ErrEscapes) || !errors.As(err, &opErr) || opErr.Op != "lock" {
		t.Errorf("Write with a planted lock link = %v, want a lock *OpError wrapping ErrEscapes", err)
	}
	if _, err := os.Lstat(lockTarget); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was created outside through the planted link: %v", err)
	}
}
