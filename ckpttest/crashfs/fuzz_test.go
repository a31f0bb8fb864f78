package crashfs_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
	"github.com/ckptkit/ckpt/store/storefs"
)

// dump describes everything a file system shows, to compare two of them.
func dump(t *testing.T, f *crashfs.FS, dir string) string {
	t.Helper()
	entries, err := f.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		p := strings.TrimSuffix(dir, "/") + "/" + e.Name()
		if e.IsDir() {
			fmt.Fprintf(&b, "%s/\n%s", p, dump(t, f, p))
			continue
		}
		data, err := f.ReadFile(p, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %q\n", p, data)
	}
	return b.String()
}

// FuzzCrashFS runs random operations: no input panics, and each crash
// state is durable through and through (a crash right after the reboot
// leaves exactly the same state).
func FuzzCrashFS(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{0, 0, 9, 17, 33, 65, 129, 2, 10})
	f.Add([]byte{255, 254, 3, 11, 19, 27})
	names := []string{"/a", "/d/b", "/d/c", "/d/e/f", "/d/e"}
	f.Fuzz(func(t *testing.T, program []byte) {
		fsys := crashfs.New(crashfs.WithSectorSize(4))
		var open []storefs.File
		for i, b := range program[:min(len(program), 24)] {
			name := names[int(b>>3)%len(names)]
			switch b % 8 {
			case 0:
				_ = fsys.MkdirAll(name, 0o755)
			case 1:
				if file, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
					open = append(open, file)
				}
			case 2:
				if len(open) > 0 {
					_, _ = open[int(b)%len(open)].Write([]byte(strings.Repeat(string(rune('a'+i%26)), int(b)%11)))
				}
			case 3:
				if len(open) > 0 {
					if b&64 != 0 {
						fsys.Inject(crashfs.Fault{Op: crashfs.OpSync, Err: syscall.EIO, Times: 1})
					}
					_ = open[int(b)%len(open)].Sync()
					fsys.ClearFaults()
				}
			case 4:
				_ = fsys.Rename(name, names[int(b)%len(names)])
			case 5:
				_ = fsys.Remove(name)
			case 6:
				_ = fsys.SyncDir(name)
			case 7:
				if unlock, err := fsys.TryLock(name, b&64 != 0, []byte("o")); err == nil && b&128 != 0 {
					unlock()
				}
			}
		}
		states, err := fsys.CrashStates()
		if err != nil {
			return // too many states is a legitimate answer
		}
		if len(states) == 0 {
			t.Fatal("no crash state")
		}
		for _, st := range states {
			again, err := st.CrashStates()
			if err != nil || len(again) != 1 {
				t.Fatalf("a rebooted file system has %d crash states (%v), want 1", len(again), err)
			}
			if a, b := dump(t, st, "/"), dump(t, again[0], "/"); a != b {
				t.Fatalf("a crash right after the reboot changed the state:\n%s\nvs\n%s", a, b)
			}
		}
	})
}
