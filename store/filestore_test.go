package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/internal/fsx/fsxtest"
	"github.com/ckptkit/ckpt/store/storefs"
)

// newStore returns a FileStore over a fresh directory.
func newStore(t *testing.T, opts ...Option) (*FileStore, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := NewFileStore(dir, opts...)
	if err != nil {
		t.Fatalf("NewFileStore(%s): %v", dir, err)
	}
	return s, dir
}

// dirNames returns the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// assertNoTemp fails when dir holds a temporary file (the lock file is not
// one).
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") && name != LockFileName {
			t.Errorf("temporary file %s left in %s", name, dir)
		}
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	s, dir := newStore(t)
	if err := s.Write("k1", []byte("one")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Write("k1", []byte("two")); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := s.Write("k2", nil); err != nil {
		t.Fatalf("Write empty value: %v", err)
	}
	got, err := s.Read("k1")
	if err != nil || string(got) != "two" {
		t.Fatalf("Read(k1) = %q, %v; want \"two\"", got, err)
	}
	if got, err := s.Read("k2"); err != nil || len(got) != 0 {
		t.Fatalf("Read(k2) = %q, %v; want empty", got, err)
	}
	info, err := os.Stat(filepath.Join(dir, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %v, want 0600 (kubelet's)", perm)
	}
	keys, err := s.List()
	if err != nil || fmt.Sprint(keys) != "[k1 k2]" {
		t.Errorf("List = %v, %v; want [k1 k2]", keys, err)
	}
	if err := s.Delete("k1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete("k1"); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	if _, err := s.Read("k1"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("Read after Delete = %v, want ErrKeyNotFound", err)
	}
	assertNoTemp(t, dir)
	if s.Dir() != dir || s.Path("k") != filepath.Join(dir, "k") {
		t.Errorf("Dir/Path = %s, %s", s.Dir(), s.Path("k"))
	}
}

func TestFileStoreErrors(t *testing.T) {
	s, dir := newStore(t, WithMaxReadSize(4))
	if err := os.WriteFile(filepath.Join(dir, "big"), []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fits"), []byte("1234"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		op     func() error
		want   []error
		wantOp string
	}{
		{"a missing key is ErrKeyNotFound and fs.ErrNotExist", func() error { _, err := s.Read("missing"); return err }, []error{ErrKeyNotFound, fs.ErrNotExist}, "read"},
		{"a value over the read limit is ErrTooLarge", func() error { _, err := s.Read("big"); return err }, []error{ErrTooLarge}, "read"},
		{"a directory is not a value", func() error { _, err := s.Read("adir"); return err }, []error{ErrNotRegular}, "read"},
		{"read rejects invalid keys", func() error { _, err := s.Read("../x"); return err }, []error{ErrInvalidKey}, "validate"},
		{"write rejects invalid keys", func() error { return s.Write(".x", nil) }, []error{ErrInvalidKey}, "validate"},
		{"delete rejects invalid keys", func() error { return s.Delete("a/b") }, []error{ErrInvalidKey}, "validate"},
	}
	for _, tt := range tests {
		err := tt.op()
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: got %v, want errors.Is %v", tt.reason, err, w)
			}
		}
		var opErr *OpError
		if !errors.As(err, &opErr) || opErr.Op != tt.wantOp {
			t.Errorf("%s: got %#v, want *OpError with Op %q", tt.reason, err, tt.wantOp)
		}
	}
	if got, err := s.Read("fits"); err != nil || string(got) != "1234" {
		t.Errorf("a value of exactly the limit: Read = %q, %v", got, err)
	}
}

func TestFileStoreList(t *testing.T) {
	s, dir := newStore(t)
	for _, name := range []string{"b", "a", ".123456", ".a.ckpt-tmp-0123456789abcdef", "not a key", "z-"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "link-to-file")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("subdir", filepath.Join(dir, "link-to-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "kubelet.sock"))
	if err != nil {
		t.Logf("no unix socket (%v); socket case not covered", err)
	} else {
		t.Cleanup(func() { ln.Close() })
	}
	keys, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	// Skipped: dot files (kubelet's and our temp files), names that are not
	// keys, the directory, the socket, links to a directory or to nothing.
	if want := "[a b link-to-file]"; fmt.Sprint(keys) != want {
		t.Errorf("List = %v, want %s", keys, want)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.List(); err != nil || keys == nil || len(keys) != 0 {
		t.Errorf("List of a removed directory = %#v, %v; want empty, nil", keys, err)
	}
}

func TestFileStoreCreatesDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	faults := fsxtest.New(nil)
	s, err := NewFileStore(dir, WithFS(faults))
	if err != nil {
		t.Fatalf("NewFileStore: %v", err)
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() || info.Mode().Perm()&^0o755 != 0 {
		t.Fatalf("directory not created with mode 0755: %v, %v", info, err)
	}
	// The new directories' entries are made durable in their parents.
	for _, parent := range []string{base, filepath.Join(base, "a")} {
		if faults.Count(fsxtest.OpSyncDir, parent) != 1 {
			t.Errorf("parent %s of a created directory was not fsynced: %v", parent, faults.Calls())
		}
	}
	// The directory disappears after construction: Write creates it again.
	if err := os.RemoveAll(filepath.Join(base, "a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write("k", []byte("v")); err != nil {
		t.Fatalf("Write after the directory was removed: %v", err)
	}
	if got, err := s.Read("k"); err != nil || string(got) != "v" {
		t.Errorf("Read = %q, %v", got, err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(file); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("NewFileStore over a file = %v, want ENOTDIR", err)
	}
	if _, err := NewFileStore(""); err == nil {
		t.Errorf("NewFileStore(\"\") succeeded")
	}
}

func TestIsOwnTemp(t *testing.T) {
	tests := []struct {
		reason string
		name   string
		want   bool
	}{
		{"our pattern", ".cpu_manager_state.ckpt-tmp-0123456789abcdef", true},
		{"a key prefix cut after a dash", ".a-.ckpt-tmp-0123456789abcdef", true},
		{"kubelet's temp name is not ours", ".123456789", false},
		{"no leading dot", "a.ckpt-tmp-0123456789abcdef", false},
		{"suffix too short", ".a.ckpt-tmp-0123", false},
		{"upper-case hex is not ours", ".a.ckpt-tmp-0123456789ABCDEF", false},
		{"no key prefix", "..ckpt-tmp-0123456789abcdef", false},
		{"a prefix outside the key alphabet", ".a b.ckpt-tmp-0123456789abcdef", false},
	}
	for _, tt := range tests {
		if got := isOwnTemp(tt.name); got != tt.want {
			t.Errorf("%s: isOwnTemp(%q) = %v, want %v", tt.reason, tt.name, got, tt.want)
		}
	}
}

func TestTempNameFitsAndIsRecognised(t *testing.T) {
	s, _ := newStore(t)
	key := strings.Repeat("k", MaxKeyLength)
	f, err := s.createTemp(key)
	if err != nil {
		t.Fatalf("createTemp for the longest key: %v", err)
	}
	defer f.Close()
	name := filepath.Base(f.Name())
	if len(name) > 255 || !isOwnTemp(name) {
		t.Errorf("temp name %q (%d bytes): too long or not recognised", name, len(name))
	}
}

func TestStaleTempCleanup(t *testing.T) {
	const (
		oldOurs   = ".k.ckpt-tmp-00000000000000aa"
		freshOurs = ".k.ckpt-tmp-00000000000000bb"
		kubelets  = ".123456789"
		value     = "k"
	)
	tests := []struct {
		reason     string
		opts       []Option
		heldShared bool // another process writes: the lock file is held shared
		want       string
	}{
		{"default, the lock file exists and is free: every temp file of ours is a leftover; kubelet's stay", nil, false,
			"[.123456789 .ckpt.lock k]"},
		{"no lock file: no writer of ours ever wrote, so the age decides, and no file is created", nil, false,
			"[.123456789 .k.ckpt-tmp-00000000000000bb k]"},
		{"a writer holds the lock: only our temp files older than a minute go", nil, true,
			"[.123456789 .ckpt.lock .k.ckpt-tmp-00000000000000bb k]"},
		{"no lock: only our temp files older than a minute go", []Option{WithoutDirLock()}, false,
			"[.123456789 .k.ckpt-tmp-00000000000000bb k]"},
		{"no lock, age 0: all our temp files go, kubelet's stay", []Option{WithoutDirLock(), WithStaleTempAge(0)}, false,
			"[.123456789 k]"},
		{"negative age: cleanup disabled", []Option{WithStaleTempAge(-1)}, false,
			"[.123456789 .k.ckpt-tmp-00000000000000aa .k.ckpt-tmp-00000000000000bb k]"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, name := range []string{oldOurs, freshOurs, kubelets, value} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		old := time.Now().Add(-time.Hour)
		for _, name := range []string{oldOurs, kubelets} {
			if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.HasPrefix(tt.reason, "no lock file") && len(tt.opts) == 0 {
			if err := os.WriteFile(filepath.Join(dir, LockFileName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if tt.heldShared {
			// A separate open file description conflicts like another
			// process.
			unlock, err := storefs.OS{}.TryLock(filepath.Join(dir, LockFileName), false, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
		}
		if _, err := NewFileStore(dir, tt.opts...); err != nil {
			t.Fatalf("%s: NewFileStore: %v", tt.reason, err)
		}
		if got := fmt.Sprint(dirNames(t, dir)); got != tt.want {
			t.Errorf("%s: directory holds %s, want %s", tt.reason, got, tt.want)
		}
	}
}

// TestWriteFailures is the fault-injection matrix: every failure a write
// (through Write or Update) can meet, and the contract: the error names op,
// key and path and wraps the errno; the previous value is byte-identical
// (or, after the rename, the new one is visible and the error says its
// durability is unknown); no temporary file is left; a failed fsync is not
// retried; the failure is not sticky.
func TestWriteFailures(t *testing.T) {
	isTemp := func(p string) bool {
		return strings.HasPrefix(filepath.Base(p), ".") && filepath.Base(p) != LockFileName
	}
	tests := []struct {
		reason     string
		fault      fsxtest.Fault
		wantOp     string
		wantErrno  error
		newVisible bool
		durability bool
	}{
		{"disk full while writing", fsxtest.Fault{Op: fsxtest.OpWrite, Err: syscall.ENOSPC}, "write", syscall.ENOSPC, false, false},
		{"I/O error on fsync", fsxtest.Fault{Op: fsxtest.OpSync, Err: syscall.EIO}, "fsync", syscall.EIO, false, false},
		{"disk full reported at close (NFS)", fsxtest.Fault{Op: fsxtest.OpClose, Err: syscall.ENOSPC}, "close", syscall.ENOSPC, false, false},
		{"directory not writable", fsxtest.Fault{Op: fsxtest.OpOpenFile, Match: isTemp, Err: syscall.EACCES}, "create-temp", syscall.EACCES, false, false},
		{"read-only file system", fsxtest.Fault{Op: fsxtest.OpOpenFile, Match: isTemp, Err: syscall.EROFS}, "create-temp", syscall.EROFS, false, false},
		{"lock file cannot be opened on a read-only file system", fsxtest.Fault{Op: fsxtest.OpTryLock, Err: syscall.EROFS}, "lock", syscall.EROFS, false, false},
		{"rename fails", fsxtest.Fault{Op: fsxtest.OpRename, Err: syscall.EIO}, "rename", syscall.EIO, false, false},
		{"directory fsync fails after the rename", fsxtest.Fault{Op: fsxtest.OpSyncDir, Err: syscall.EIO}, "fsync-dir", syscall.EIO, true, true},
		{"temp file cannot be removed either", fsxtest.Fault{Op: fsxtest.OpWrite, Err: syscall.ENOSPC}, "write", syscall.ENOSPC, false, false},
	}
	writes := map[string]func(s *FileStore, key string, data []byte) error{
		"Write": (*FileStore).Write,
		"Update": func(s *FileStore, key string, data []byte) error {
			return s.Update(key, func([]byte, bool) ([]byte, error) { return data, nil })
		},
	}
	for via, write := range writes {
		for i, tt := range tests {
			reason := via + ": " + tt.reason
			faults := fsxtest.New(nil)
			s, dir := newStore(t, WithFS(faults))
			path := filepath.Join(dir, "state")
			old := []byte(`{"old":true}`)
			if err := s.Write("state", old); err != nil {
				t.Fatal(err)
			}
			faults.Reset()
			faults.Inject(tt.fault)
			removeFails := i == len(tests)-1
			if removeFails {
				faults.Inject(fsxtest.Fault{Op: fsxtest.OpRemove, Match: isTemp, Err: syscall.EBUSY, Times: 1})
			}
			err := write(s, "state", []byte(`{"new":true}`))
			var opErr *OpError
			if !errors.As(err, &opErr) || opErr.Op != tt.wantOp || opErr.Key != "state" || opErr.Path != path {
				t.Errorf("%s: got %v, want *OpError{Op: %q, Key: state, Path: %s}", reason, err, tt.wantOp, path)
			}
			if !errors.Is(err, tt.wantErrno) {
				t.Errorf("%s: %v does not wrap %v", reason, err, tt.wantErrno)
			}
			if got := errors.Is(err, ErrDurabilityUnknown); got != tt.durability {
				t.Errorf("%s: errors.Is(ErrDurabilityUnknown) = %v, want %v", reason, got, tt.durability)
			}
			for _, w := range []string{tt.wantOp, `"state"`, dir} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: message %q does not name %q", reason, err, w)
				}
			}
			got, rerr := os.ReadFile(path)
			want := old
			if tt.newVisible {
				want = []byte(`{"new":true}`)
			}
			if rerr != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: file holds %q, %v; want %q", reason, got, rerr, want)
			}
			if tt.wantOp == "fsync" {
				if n := len(filterCalls(faults.Calls(), fsxtest.OpSync)); n != 1 {
					t.Errorf("%s: %d fsyncs of the file, want 1: a failed fsync is never retried", reason, n)
				}
			}
			if removeFails {
				if !errors.Is(err, syscall.EBUSY) {
					t.Errorf("%s: the failed removal is not reported: %v", reason, err)
				}
				continue // the temp file is legitimately left behind
			}
			assertNoTemp(t, dir)
			// The failure is not sticky: the same write succeeds once the
			// fault is gone.
			faults.Reset()
			if err := write(s, "state", []byte("later")); err != nil {
				t.Errorf("%s: write after the fault cleared: %v", reason, err)
			}
		}
	}
}

// filterCalls returns the calls of op.
func filterCalls(calls []fsxtest.Call, op fsxtest.Op) []fsxtest.Call {
	var out []fsxtest.Call
	for _, c := range calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

func TestOtherFailures(t *testing.T) {
	tests := []struct {
		reason    string
		fault     fsxtest.Fault
		op        func(s *FileStore) error
		wantOp    string
		wantErrno error
		wantIs    error
	}{
		{"unreadable file", fsxtest.Fault{Op: fsxtest.OpReadFile, Err: syscall.EACCES},
			func(s *FileStore) error { _, err := s.Read("state"); return err }, "read", syscall.EACCES, fs.ErrPermission},
		{"remove not permitted", fsxtest.Fault{Op: fsxtest.OpRemove, Err: syscall.EROFS},
			func(s *FileStore) error { return s.Delete("state") }, "remove", syscall.EROFS, nil},
		{"directory fsync fails after remove", fsxtest.Fault{Op: fsxtest.OpSyncDir, Err: syscall.EIO},
			func(s *FileStore) error { return s.Delete("state") }, "fsync-dir", syscall.EIO, ErrDurabilityUnknown},
		{"directory unreadable", fsxtest.Fault{Op: fsxtest.OpReadDir, Err: syscall.EACCES},
			func(s *FileStore) error { _, err := s.List(); return err }, "list", syscall.EACCES, fs.ErrPermission},
		{"lstat of the directory fails", fsxtest.Fault{Op: fsxtest.OpLstat, Err: syscall.EACCES},
			func(s *FileStore) error { return s.Write("state", nil) }, "mkdir", syscall.EACCES, nil},
	}
	for _, tt := range tests {
		faults := fsxtest.New(nil)
		s, _ := newStore(t, WithFS(faults))
		if err := s.Write("state", []byte("v")); err != nil {
			t.Fatal(err)
		}
		faults.Inject(tt.fault)
		err := tt.op(s)
		var opErr *OpError
		if !errors.As(err, &opErr) || opErr.Op != tt.wantOp {
			t.Errorf("%s: got %v, want *OpError with Op %q", tt.reason, err, tt.wantOp)
		}
		if !errors.Is(err, tt.wantErrno) || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
			t.Errorf("%s: %v does not wrap %v / %v", tt.reason, err, tt.wantErrno, tt.wantIs)
		}
	}
}

func TestMkdirFailure(t *testing.T) {
	faults := fsxtest.New(nil)
	faults.Inject(fsxtest.Fault{Op: fsxtest.OpMkdirAll, Err: syscall.EROFS})
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := NewFileStore(dir, WithFS(faults))
	var opErr *OpError
	if !errors.As(err, &opErr) || opErr.Op != "mkdir" || opErr.Path != dir || !errors.Is(err, syscall.EROFS) {
		t.Errorf("NewFileStore on a read-only file system = %v, want mkdir *OpError wrapping EROFS", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	s, dir := newStore(t)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				value := []byte(fmt.Sprintf("writer %d value %d", g, i))
				if err := s.Write("shared", value); err != nil {
					t.Errorf("Write shared: %v", err)
				}
				if err := s.Write(fmt.Sprintf("own-%d", g), value); err != nil {
					t.Errorf("Write own: %v", err)
				}
				if got, err := s.Read("shared"); err != nil || !strings.HasPrefix(string(got), "writer ") {
					t.Errorf("Read shared = %q, %v: torn or missing", got, err)
				}
			}
		})
	}
	wg.Wait()
	keys, err := s.List()
	if err != nil || len(keys) != 17 {
		t.Errorf("List = %v, %v; want 17 keys", keys, err)
	}
	assertNoTemp(t, dir)
}

// TestBoundedReadOfHugeFile: a 1 TiB (sparse) file under a key is refused
// at once by its size, never read into memory.
func TestBoundedReadOfHugeFile(t *testing.T) {
	s, dir := newStore(t)
	f, err := os.Create(filepath.Join(dir, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("no sparse 1 TiB file here: %v", err)
	}
	start := time.Now()
	_, err = s.Read("huge")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1099511627776") {
		t.Errorf("Read of a 1 TiB file = %v, want ErrTooLarge saying its size", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v: the file was read", d)
	}
}
