package storefs_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/store/storefs"
)

func TestOSReadFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		path   string
		limit  int64
		want   []byte
		err    error
	}{
		{"under the limit", file, 10, []byte("12345"), nil},
		{"exactly the limit", file, 5, []byte("12345"), nil},
		{"over the limit", file, 4, nil, storefs.ErrTooLarge},
		{"a negative limit reads nothing", file, -1, nil, storefs.ErrTooLarge},
		{"a directory is not a regular file", dir, 10, nil, storefs.ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 10, nil, fs.ErrNotExist},
	}
	for _, tt := range tests {
		got, err := storefs.OS{}.ReadFile(tt.path, tt.limit)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.reason, err, tt.err)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tt.path {
				t.Errorf("%s: err %v does not name the path", tt.reason, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: ReadFile = %q, %v; want %q", tt.reason, got, err, tt.want)
		}
	}
}

func TestOSWriteCycle(t *testing.T) {
	var fsys storefs.FS = storefs.OS{}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp")
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != tmp {
		t.Errorf("Name = %s", f.Name())
	}
	if _, err := f.Write([]byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file = %v", err)
	}
	final := filepath.Join(dir, "v")
	if err := fsys.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := fsys.SyncDir(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir of a missing directory = %v", err)
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "v" {
		t.Errorf("ReadDir = %v, %v", entries, err)
	}
	if err := os.Symlink("v", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if info, err := fsys.Lstat(filepath.Join(dir, "l")); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat = %v, %v", info, err)
	}
	if info, err := fsys.Stat(filepath.Join(dir, "l")); err != nil || !info.Mode().IsRegular() {
		t.Errorf("Stat = %v, %v", info, err)
	}
	if err := fsys.Remove(final); err != nil {
		t.Fatal(err)
	}
}

// TestOSConfinesNames: a symbolic link planted under a name in the
// directory is followed only while it stays inside the directory.
func TestOSConfinesNames(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "inside"), []byte("in"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"abs": outside, "rel": "../" + filepath.Base(filepath.Dir(outside)) + "/secret", "ok": "inside"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	var fsys storefs.FS = storefs.OS{}
	for _, name := range []string{"abs", "rel"} {
		path := filepath.Join(dir, name)
		tests := []struct {
			reason string
			call   func() error
		}{
			{"read", func() error { _, err := fsys.ReadFile(path, 100); return err }},
			{"stat", func() error { _, err := fsys.Stat(path); return err }},
			{"open for writing", func() error { _, err := fsys.OpenFile(path, os.O_WRONLY, 0); return err }},
			{"lock", func() error { _, err := fsys.TryLock(path, true, nil); return err }},
		}
		for _, tt := range tests {
			err := tt.call()
			var pe *fs.PathError
			if !errors.Is(err, storefs.ErrEscapes) || !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("%s of link %s: got %v, want a *fs.PathError naming %s wrapping ErrEscapes", tt.reason, name, err, path)
			}
		}
		// Creating with O_EXCL never follows a link, and Lstat, Rename and
		// Remove act on the link itself.
		if _, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
			t.Errorf("O_EXCL create over link %s = %v, want ErrExist", name, err)
		}
		if info, err := fsys.Lstat(path); err != nil || info.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Lstat(%s) = %v, %v", name, info, err)
		}
	}
	if got, err := fsys.ReadFile(filepath.Join(dir, "ok"), 100); err != nil || string(got) != "in" {
		t.Errorf("a link inside the directory: ReadFile = %q, %v", got, err)
	}
	if err := fsys.Rename(filepath.Join(dir, "abs"), filepath.Join(dir, "renamed")); err != nil {
		t.Errorf("Rename of a link: %v", err)
	}
	if err := fsys.Remove(filepath.Join(dir, "renamed")); err != nil {
		t.Errorf("Remove of a link: %v", err)
	}
	if got, err := os.ReadFile(outside); err != nil || string(got) != "secret" {
		t.Errorf("the outside file changed: %q, %v", got, err)
	}
	var le *os.LinkError
	if err := fsys.Rename(filepath.Join(dir, "none"), filepath.Join(dir, "x")); !errors.As(err, &le) || le.Old != filepath.Join(dir, "none") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rename of a missing file = %#v, want *os.LinkError with full paths", err)
	}
	// Names without a last element fall back to the os package.
	if info, err := fsys.Lstat(string(filepath.Separator)); err != nil || !info.IsDir() {
		t.Errorf("Lstat(/) = %v, %v", info, err)
	}
}
