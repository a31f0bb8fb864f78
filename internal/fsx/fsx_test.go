package fsx_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/internal/fsx"
)

func TestReadRegular(t *testing.T) {
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
		{"over the limit", file, 4, nil, fsx.ErrTooLarge},
		{"a negative limit reads nothing", file, -1, nil, fsx.ErrTooLarge},
		{"a directory is not a regular file", dir, 10, nil, fsx.ErrNotRegular},
	}
	for _, tt := range tests {
		f, err := os.OpenFile(tt.path, os.O_RDONLY|fsx.OpenNonblock, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fsx.ReadRegular(f, tt.path, tt.limit)
		f.Close()
		var pe *fs.PathError
		switch {
		case tt.err != nil && (!errors.Is(err, tt.err) || !errors.As(err, &pe) || pe.Path != tt.path):
			t.Errorf("%s: err = %v, want %v naming the path", tt.reason, err, tt.err)
		case tt.err == nil && (err != nil || !bytes.Equal(got, tt.want)):
			t.Errorf("%s: ReadRegular = %q, %v; want %q", tt.reason, got, err, tt.want)
		}
	}
	if err := fsx.SyncDir(dir); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := fsx.SyncDir(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir of a missing directory = %v", err)
	}
}
