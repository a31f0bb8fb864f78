package crashfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
	"github.com/ckptkit/ckpt/store/storefs"
)

const absent = "<absent>"

// survivors returns, sorted and distinct, what each crash state now holds
// under the given paths, joined by " | ".
func survivors(t *testing.T, f *crashfs.FS, paths ...string) []string {
	t.Helper()
	states, err := f.CrashStates()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range states {
		var parts []string
		for _, p := range paths {
			data, err := st.ReadFile(p, 1<<20)
			switch {
			case err == nil:
				parts = append(parts, fmt.Sprintf("%q", data))
			case errors.Is(err, fs.ErrNotExist):
				parts = append(parts, absent)
			default:
				t.Fatalf("ReadFile(%s) after the crash: %v", p, err)
			}
		}
		if s := strings.Join(parts, " | "); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func mustOpen(t *testing.T, f *crashfs.FS, name string, flag int) storefs.File {
	t.Helper()
	file, err := f.OpenFile(name, flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func mustWrite(t *testing.T, file storefs.File, data string) {
	t.Helper()
	if _, err := file.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

func q(s string) string { return fmt.Sprintf("%q", s) }

const create = os.O_WRONLY | os.O_CREATE | os.O_EXCL

func TestNewFileDurability(t *testing.T) {
	f := crashfs.New()
	if err := f.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	file := mustOpen(t, f, "/d/f", create)
	mustWrite(t, file, "hello")
	steps := []struct {
		reason string
		do     func() error
		want   []string
	}{
		{"written, nothing synced: name and data may both be lost, the data in part",
			func() error { return nil }, []string{q(""), q("\x00\x00\x00\x00\x00"), q("hello"), absent}},
		{"file fsynced: the data is durable, its name is not",
			file.Sync, []string{q("hello"), absent}},
		{"directory fsynced: both are durable",
			func() error { return f.SyncDir("/d") }, []string{q("hello")}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if got := survivors(t, f, "/d/f"); !slices.Equal(got, st.want) {
			t.Errorf("%s: survivors %v, want %v", st.reason, got, st.want)
		}
	}
	// The directory itself needed its parent's fsync: before it, a crash
	// may lose it and everything in it.
	g := crashfs.New()
	if err := g.MkdirAll("/x/y", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := g.Seed("/other", nil); err != nil { // Seed syncs everything
		t.Fatal(err)
	}
	if err := g.MkdirAll("/x/y/z", 0o755); err != nil {
		t.Fatal(err)
	}
	z := mustOpen(t, g, "/x/y/z/f", create)
	mustWrite(t, z, "v")
	if err := z.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := g.SyncDir("/x/y/z"); err != nil {
		t.Fatal(err)
	}
	if got, want := survivors(t, g, "/x/y/z/f"), []string{q("v"), absent}; !slices.Equal(got, want) {
		t.Errorf("a new directory not fsynced in its parent: survivors %v, want %v", got, want)
	}
}

func TestRenameIsAtomicAndOrdered(t *testing.T) {
	f := crashfs.New()
	if err := f.Seed("/d/k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	tmp := mustOpen(t, f, "/d/.tmp", create)
	mustWrite(t, tmp, "new")
	if err := tmp.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("/d/.tmp", "/d/k"); err != nil {
		t.Fatal(err)
	}
	// A prefix of (create .tmp, rename .tmp over k) survives: never the
	// rename without the create, never half a rename.
	want := []string{q("new") + " | " + absent, q("old") + " | " + absent, q("old") + " | " + q("new")}
	slices.Sort(want)
	if got := survivors(t, f, "/d/k", "/d/.tmp"); !slices.Equal(got, want) {
		t.Errorf("before the directory fsync: survivors %v, want %v", got, want)
	}
	if data, err := f.ReadFile("/d/k", 10); err != nil || string(data) != "new" {
		t.Errorf("readers see %q, %v; want the new value", data, err)
	}
	if err := f.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	if got, want := survivors(t, f, "/d/k", "/d/.tmp"), []string{q("new") + " | " + absent}; !slices.Equal(got, want) {
		t.Errorf("after the directory fsync: survivors %v, want %v", got, want)
	}
	// Across directories a rename is an unlink and a link, each pending in
	// its own directory: the file may end up in both or in neither.
	if err := f.Seed("/e/keep", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("/d/k", "/e/k"); err != nil {
		t.Fatal(err)
	}
	want = []string{q("new") + " | " + q("new"), q("new") + " | " + absent, absent + " | " + q("new"), absent + " | " + absent}
	slices.Sort(want)
	if got := survivors(t, f, "/d/k", "/e/k"); !slices.Equal(got, want) {
		t.Errorf("cross-directory rename: survivors %v, want %v", got, want)
	}
}

func TestTornWrites(t *testing.T) {
	f := crashfs.New(crashfs.WithSectorSize(4))
	if f.SectorSize() != 4 {
		t.Fatalf("SectorSize = %d", f.SectorSize())
	}
	if err := f.Seed("/d/keep", nil); err != nil {
		t.Fatal(err)
	}
	file := mustOpen(t, f, "/d/f", create)
	if err := f.SyncDir("/d"); err != nil { // the name is durable, the data not
		t.Fatal(err)
	}
	mustWrite(t, file, "0123456789")
	want := []string{q(""), q("0123\x00\x00\x00\x00\x00\x00"), q("01234567\x00\x00"), q("0123456789"), q(strings.Repeat("\x00", 10))}
	slices.Sort(want)
	if got := survivors(t, f, "/d/f"); !slices.Equal(got, want) {
		t.Errorf("an unsynced 10-byte write in 4-byte sectors: survivors %v, want %v", got, want)
	}
	// Overwriting a durable file in place mixes old and new sectors.
	g := crashfs.New(crashfs.WithSectorSize(4))
	if err := g.Seed("/f", []byte("AAAABBBB")); err != nil {
		t.Fatal(err)
	}
	over := mustOpen(t, g, "/f", os.O_WRONLY)
	mustWrite(t, over, "aaaabbbb")
	want = []string{q("AAAABBBB"), q("aaaaBBBB"), q("aaaabbbb")}
	if got := survivors(t, g, "/f"); !slices.Equal(got, want) {
		t.Errorf("an overwrite in place: survivors %v, want %v", got, want)
	}
}

// TestFailedSyncDropsPages: Linux semantics. The failed fsync reports its
// error once; the retry succeeds, yet the data never reaches the disk.
func TestFailedSyncDropsPages(t *testing.T) {
	f := crashfs.New()
	if err := f.Seed("/f", []byte("old")); err != nil {
		t.Fatal(err)
	}
	f.Inject(crashfs.Fault{Op: crashfs.OpSync, Err: syscall.EIO, Times: 1})
	file := mustOpen(t, f, "/f", os.O_WRONLY|os.O_TRUNC)
	mustWrite(t, file, "new!")
	if err := file.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("first Sync = %v, want EIO", err)
	}
	if err := file.Sync(); err != nil {
		t.Fatalf("the retry = %v, want success (the error is reported once)", err)
	}
	if data, _ := f.ReadFile("/f", 10); string(data) != "new!" {
		t.Errorf("readers see %q, want the new data (the pages stay cached)", data)
	}
	if got, want := survivors(t, f, "/f"), []string{q("old\x00")}; !slices.Equal(got, want) {
		t.Errorf("after the failed fsync and its retry: survivors %v, want %v (the data was dropped)", got, want)
	}
	// A failed directory fsync leaves the changes pending.
	g := crashfs.New()
	if err := g.Seed("/d/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := g.Remove("/d/k"); err != nil {
		t.Fatal(err)
	}
	g.Inject(crashfs.Fault{Op: crashfs.OpSyncDir, Err: syscall.EIO, Times: 1})
	if err := g.SyncDir("/d"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("SyncDir = %v, want EIO", err)
	}
	if got, want := survivors(t, g, "/d/k"), []string{q("v"), absent}; !slices.Equal(got, want) {
		t.Errorf("after a failed directory fsync: survivors %v, want %v", got, want)
	}
	if err := g.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	if got, want := survivors(t, g, "/d/k"), []string{absent}; !slices.Equal(got, want) {
		t.Errorf("after a later directory fsync: survivors %v, want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	f := crashfs.New()
	if err := f.Seed("/d/file", []byte("12345")); err != nil {
		t.Fatal(err)
	}
	if err := f.Seed("/d/sub/x", nil); err != nil {
		t.Fatal(err)
	}
	closed := mustOpen(t, f, "/d/c", create)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		call   func() error
		want   error
	}{
		{"open in a missing directory", func() error { _, err := f.OpenFile("/none/f", create, 0o600); return err }, fs.ErrNotExist},
		{"open missing without O_CREATE", func() error { _, err := f.OpenFile("/d/none", os.O_WRONLY, 0); return err }, fs.ErrNotExist},
		{"O_EXCL on an existing file", func() error { _, err := f.OpenFile("/d/file", create, 0o600); return err }, fs.ErrExist},
		{"a directory is not opened for writing", func() error { _, err := f.OpenFile("/d/sub", os.O_WRONLY, 0); return err }, syscall.EISDIR},
		{"a file is not a directory", func() error { _, err := f.OpenFile("/d/file/x", create, 0o600); return err }, syscall.ENOTDIR},
		{"read over the limit", func() error { _, err := f.ReadFile("/d/file", 4); return err }, storefs.ErrTooLarge},
		{"read a directory", func() error { _, err := f.ReadFile("/d/sub", 4); return err }, storefs.ErrNotRegular},
		{"read a missing file", func() error { _, err := f.ReadFile("/d/none", 4); return err }, fs.ErrNotExist},
		{"remove a non-empty directory", func() error { return f.Remove("/d/sub") }, syscall.ENOTEMPTY},
		{"remove a missing file", func() error { return f.Remove("/d/none") }, fs.ErrNotExist},
		{"rename a directory is not modelled", func() error { return f.Rename("/d/sub", "/d/sub2") }, syscall.EXDEV},
		{"rename a missing file", func() error { return f.Rename("/d/none", "/d/x") }, fs.ErrNotExist},
		{"rename over a directory", func() error { return f.Rename("/d/file", "/d/sub") }, syscall.EISDIR},
		{"mkdir over a file", func() error { return f.MkdirAll("/d/file/x", 0o755) }, syscall.ENOTDIR},
		{"stat a missing file", func() error { _, err := f.Stat("/d/none"); return err }, fs.ErrNotExist},
		{"list a file", func() error { _, err := f.ReadDir("/d/file"); return err }, syscall.ENOTDIR},
		{"sync a missing directory", func() error { return f.SyncDir("/none") }, fs.ErrNotExist},
		{"write a closed file", func() error { _, err := closed.Write([]byte("x")); return err }, os.ErrClosed},
		{"sync a closed file", closed.Sync, os.ErrClosed},
		{"close twice", closed.Close, os.ErrClosed},
		{"lock a directory", func() error { _, err := f.TryLock("/d/sub", true, nil); return err }, storefs.ErrNotRegular},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.reason, err, tt.want)
		}
		var pe *fs.PathError
		var le *os.LinkError
		if !errors.As(err, &pe) && !errors.As(err, &le) {
			t.Errorf("%s: %T is not an os error naming the path", tt.reason, err)
		}
	}
	if err := f.Rename("/d/file", "/d/file"); err != nil {
		t.Errorf("rename onto itself = %v", err)
	}
	ro := mustOpen(t, f, "/d/file", os.O_RDONLY)
	if _, err := ro.Write([]byte("x")); !errors.Is(err, syscall.EBADF) {
		t.Errorf("write to a read-only file = %v, want EBADF", err)
	}
}

func TestStatAndReadDir(t *testing.T) {
	f := crashfs.New()
	if err := f.Seed("/d/b", []byte("12")); err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("/d/a", 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := f.ReadDir("/d")
	if err != nil || len(entries) != 2 || entries[0].Name() != "a" || !entries[0].IsDir() || entries[1].Name() != "b" || !entries[1].Type().IsRegular() {
		t.Fatalf("ReadDir = %v, %v", entries, err)
	}
	info, err := f.Lstat("/d/b")
	if err != nil || info.Size() != 2 || info.Mode().Perm() != 0o600 || info.IsDir() || info.Name() != "b" || info.Sys() != nil || info.ModTime().IsZero() {
		t.Errorf("Lstat = %+v, %v", info, err)
	}
	if info, err := f.Stat("/"); err != nil || !info.IsDir() {
		t.Errorf("Stat(/) = %v, %v", info, err)
	}
	if info, err := f.Stat("d/a"); err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Errorf("a relative path is taken from the root: %v, %v", info, err)
	}
	// O_APPEND and O_TRUNC.
	file := mustOpen(t, f, "/d/b", os.O_WRONLY|os.O_APPEND)
	mustWrite(t, file, "3")
	if data, _ := f.ReadFile("/d/b", 10); string(data) != "123" {
		t.Errorf("append: %q", data)
	}
	mustOpen(t, f, "/d/b", os.O_WRONLY|os.O_TRUNC)
	if data, _ := f.ReadFile("/d/b", 10); len(data) != 0 {
		t.Errorf("truncate: %q", data)
	}
}

func TestFaults(t *testing.T) {
	f := crashfs.New()
	if err := f.Seed("/d/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		op   crashfs.Op
		call func() error
	}{
		{crashfs.OpOpenFile, func() error { _, err := f.OpenFile("/d/n", create, 0o600); return err }},
		{crashfs.OpRename, func() error { return f.Rename("/d/k", "/d/m") }},
		{crashfs.OpRemove, func() error { return f.Remove("/d/k") }},
		{crashfs.OpReadFile, func() error { _, err := f.ReadFile("/d/k", 9); return err }},
		{crashfs.OpReadDir, func() error { _, err := f.ReadDir("/d"); return err }},
		{crashfs.OpMkdirAll, func() error { return f.MkdirAll("/d/e", 0o755) }},
		{crashfs.OpLstat, func() error { _, err := f.Lstat("/d/k"); return err }},
		{crashfs.OpStat, func() error { _, err := f.Stat("/d/k"); return err }},
		{crashfs.OpTryLock, func() error { _, err := f.TryLock("/d/.lock", true, nil); return err }},
	}
	for _, o := range ops {
		f.Inject(crashfs.Fault{Op: o.op, Match: func(p string) bool { return strings.HasPrefix(p, "/d") }, Err: syscall.EROFS, Times: 1})
		if err := o.call(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s with a fault = %v, want EROFS", o.op, err)
		}
	}
	if got := survivors(t, f, "/d/k"); !slices.Equal(got, []string{q("v")}) {
		t.Errorf("failed operations changed the file system: %v", got)
	}
	file := mustOpen(t, f, "/d/n", create)
	f.Inject(crashfs.Fault{Op: crashfs.OpWrite, Err: syscall.ENOSPC})
	f.Inject(crashfs.Fault{Op: crashfs.OpClose, Err: syscall.EIO})
	if _, err := file.Write([]byte("x")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Write = %v, want ENOSPC", err)
	}
	if data, _ := f.ReadFile("/d/n", 9); len(data) != 0 {
		t.Errorf("a failed write wrote %q", data)
	}
	if err := file.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v, want EIO", err)
	}
	if err := file.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("a failed Close still closes: %v", err)
	}
	f.ClearFaults()
	if err := f.Remove("/d/n"); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
}

func TestTryLock(t *testing.T) {
	f := crashfs.New()
	unlock, err := f.TryLock("/.lock", true, []byte("pid=1"))
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := f.ReadFile("/.lock", 99); string(data) != "pid=1" {
		t.Errorf("owner not recorded: %q", data)
	}
	if _, err := f.TryLock("/.lock", false, nil); !errors.Is(err, storefs.ErrLocked) {
		t.Errorf("shared while exclusive = %v, want ErrLocked", err)
	}
	// Locks do not survive a crash.
	states, err := f.CrashStates()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if un, err := st.TryLock("/.lock", true, nil); err != nil {
			t.Errorf("a lock survived the crash: %v", err)
		} else {
			un()
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock() // a second call is harmless
	if data, _ := f.ReadFile("/.lock", 99); len(data) != 0 {
		t.Errorf("owner left after unlock: %q", data)
	}
	s1, err := f.TryLock("/.lock", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := f.TryLock("/.lock", false, nil)
	if err != nil {
		t.Fatalf("two shared locks: %v", err)
	}
	if _, err := f.TryLock("/.lock", true, nil); !errors.Is(err, storefs.ErrLocked) {
		t.Errorf("exclusive while shared = %v, want ErrLocked", err)
	}
	s1()
	s2()
	if un, err := f.TryLock("/.lock", true, nil); err != nil {
		t.Errorf("exclusive after release: %v", err)
	} else {
		un()
	}
}

func TestExplore(t *testing.T) {
	f := crashfs.New()
	var events []string
	errBad := errors.New("bad state")
	rep, err := crashfs.Explore(f, func() error {
		file, err := f.OpenFile("/f", create, 0o600)
		if err != nil {
			return err
		}
		if _, err := file.Write([]byte("v")); err != nil {
			return err
		}
		if err := file.Sync(); err != nil {
			return err
		}
		return f.SyncDir("/")
	}, func(c crashfs.Crash) error {
		if c.State == 0 {
			events = append(events, c.After.String())
		}
		if c.States < 1 || c.State >= c.States {
			t.Errorf("state %d of %d", c.State, c.States)
		}
		if data, err := c.FS.ReadFile("/f", 9); err == nil && string(data) != "v" {
			return fmt.Errorf("%w: %q", errBad, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"#0  ", "#1 open /f", "#2 write /f", "#3 sync /f", "#4 syncdir /"}
	if !slices.Equal(events, want) {
		t.Errorf("crash points %q, want %q", events, want)
	}
	// After the create, the file may be empty; after the write, before
	// the fsync, empty or zero-filled.
	if rep.Points != 5 || rep.NumViolations != 3 || len(rep.Violations) != 3 || !errors.Is(rep.Violations[0].Err, errBad) {
		t.Errorf("report %+v", rep)
	}
	if s := rep.Violations[2].String(); !strings.Contains(s, "crash point 2") || !strings.Contains(s, "write /f") {
		t.Errorf("violation says %q", s)
	}
	if s := (crashfs.Violation{Err: errBad}).String(); !strings.Contains(s, "before the first operation") {
		t.Errorf("violation at point 0 says %q", s)
	}
	// The workload's error is returned.
	errWorkload := errors.New("workload failed")
	if _, err := crashfs.Explore(crashfs.New(), func() error { return errWorkload }, func(crashfs.Crash) error { return nil }); err != errWorkload {
		t.Errorf("Explore = %v, want the workload's error", err)
	}
}

func TestTooManyStates(t *testing.T) {
	f := crashfs.New()
	for i := range 10 {
		file := mustOpen(t, f, fmt.Sprintf("/f%d", i), create)
		mustWrite(t, file, "xy")
	}
	if _, err := f.CrashStates(); !errors.Is(err, crashfs.ErrTooManyStates) {
		t.Errorf("CrashStates of ten unsynced files = %v, want ErrTooManyStates", err)
	}
	_, err := crashfs.Explore(f, func() error {
		_, err := f.OpenFile("/g", create, 0o600)
		return err
	}, func(crashfs.Crash) error { return nil })
	if !errors.Is(err, crashfs.ErrTooManyStates) {
		t.Errorf("Explore = %v, want ErrTooManyStates", err)
	}
}
