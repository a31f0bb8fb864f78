package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// countingFS is the real file system, counting the calls that cost a write:
// file fsyncs, renames and directory fsyncs.
type countingFS struct {
	storefs.OS
	syncs, renames, dirSyncs *atomic.Int64
}

func newCountingFS() countingFS {
	return countingFS{syncs: new(atomic.Int64), renames: new(atomic.Int64), dirSyncs: new(atomic.Int64)}
}

func (c countingFS) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	f, err := c.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c.syncs}, nil
}

func (c countingFS) Rename(oldpath, newpath string) error {
	c.renames.Add(1)
	return c.OS.Rename(oldpath, newpath)
}

func (c countingFS) SyncDir(dir string) error {
	c.dirSyncs.Add(1)
	return c.OS.SyncDir(dir)
}

type countingFile struct {
	storefs.File
	syncs *atomic.Int64
}

func (f countingFile) Sync() error {
	f.syncs.Add(1)
	return f.File.Sync()
}

func (c countingFS) counts() [3]int64 {
	return [3]int64{c.syncs.Load(), c.renames.Load(), c.dirSyncs.Load()}
}

// TestSkipUnchanged: with WithSkipUnchanged, re-writing the bytes this
// store last wrote durably costs no fsync and no rename, and anything that
// may have changed the file (other bytes, a replacement or an in-place
// write by someone else, a delete, a new store) writes again.
func TestSkipUnchanged(t *testing.T) {
	one := [3]int64{1, 1, 1} // fsync, rename, directory fsync
	tests := []struct {
		reason string
		opts   []Option
		// between runs after the first write of "v1" and before the second.
		between func(t *testing.T, s *FileStore, dir string)
		second  string
		want    [3]int64 // calls made by the second write
	}{
		{"same bytes again: nothing at all", []Option{WithSkipUnchanged()}, nil, "v1", [3]int64{}},
		{"without the option every write is made", nil, nil, "v1", one},
		{"other bytes are written", []Option{WithSkipUnchanged()}, nil, "v2", one},
		{"replaced by another writer with the same bytes: written again (ours may not be durable)",
			[]Option{WithSkipUnchanged()}, func(t *testing.T, s *FileStore, dir string) {
				tmp := filepath.Join(dir, "other")
				if err := os.WriteFile(tmp, []byte("v1"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, filepath.Join(dir, "k")); err != nil {
					t.Fatal(err)
				}
			}, "v1", one},
		{"modified in place with the same size: written again",
			[]Option{WithSkipUnchanged()}, func(t *testing.T, s *FileStore, dir string) {
				time.Sleep(10 * time.Millisecond) // a later modification time
				if err := os.WriteFile(filepath.Join(dir, "k"), []byte("v9"), 0o600); err != nil {
					t.Fatal(err)
				}
			}, "v1", one},
		{"deleted, then the same bytes: written again",
			[]Option{WithSkipUnchanged()}, func(t *testing.T, s *FileStore, dir string) {
				if err := s.Delete("k"); err != nil {
					t.Fatal(err)
				}
			}, "v1", one},
		{"a new store does not know the file: written again",
			[]Option{WithSkipUnchanged()}, func(t *testing.T, s *FileStore, dir string) {
				*s = *mustStore(t, dir, s.opts.fs, WithSkipUnchanged())
			}, "v1", one},
	}
	for _, tc := range tests {
		fsys := newCountingFS()
		dir := t.TempDir()
		s := mustStore(t, dir, fsys, tc.opts...)
		if err := s.Write("k", []byte("v1")); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if tc.between != nil {
			tc.between(t, s, dir)
		}
		before := fsys.counts()
		if err := s.Write("k", []byte(tc.second)); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		after := fsys.counts()
		if got := [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]}; got != tc.want {
			t.Errorf("%s: second write made %v (fsync, rename, dir fsync), want %v", tc.reason, got, tc.want)
		}
		if got, err := s.Read("k"); err != nil || string(got) != tc.second {
			t.Errorf("%s: Read = %q, %v; want %q", tc.reason, got, err, tc.second)
		}
	}
}

// TestSkipUnchangedUpdate: Update skips too when fn returns the bytes
// already written.
func TestSkipUnchangedUpdate(t *testing.T) {
	fsys := newCountingFS()
	s := mustStore(t, t.TempDir(), fsys, WithSkipUnchanged())
	if err := s.Write("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	before := fsys.counts()
	for range 10 {
		if err := s.Update("k", func(old []byte, found bool) ([]byte, error) { return old, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if got := fsys.counts(); got != before {
		t.Errorf("unchanged updates made %v calls, want none beyond %v", got, before)
	}
}

func mustStore(t *testing.T, dir string, fsys storefs.FS, opts ...Option) *FileStore {
	t.Helper()
	s, err := NewFileStore(dir, append([]Option{WithFS(fsys)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
