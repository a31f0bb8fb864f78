package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

func TestRWLock(t *testing.T) {
	l := newRWLock()
	soon := func() time.Time { return time.Now().Add(20 * time.Millisecond) }
	if !l.acquire(false, soon()) || !l.acquire(false, soon()) {
		t.Fatal("two shared holders")
	}
	if l.acquire(true, soon()) {
		t.Fatal("exclusive while shared")
	}
	l.release(false)
	l.release(false)
	if !l.acquire(true, soon()) {
		t.Fatal("exclusive when free")
	}
	if l.acquire(false, soon()) || l.acquire(true, soon()) {
		t.Fatal("a second holder while exclusive")
	}
	// A waiting writer is served when the holder leaves, before its
	// deadline.
	got := make(chan bool)
	go func() { got <- l.acquire(true, time.Now().Add(10*time.Second)) }()
	time.Sleep(5 * time.Millisecond)
	l.release(true)
	if !<-got {
		t.Fatal("the waiting writer timed out")
	}
	l.release(true)
	// A waiting writer holds new readers back (no starvation); when it
	// gives up, they go.
	if !l.acquire(false, soon()) {
		t.Fatal("shared")
	}
	writer := make(chan bool)
	go func() { writer <- l.acquire(true, time.Now().Add(50*time.Millisecond)) }()
	time.Sleep(10 * time.Millisecond)
	reader := make(chan bool)
	go func() { reader <- l.acquire(false, time.Now().Add(10*time.Second)) }()
	if <-writer {
		t.Fatal("the writer got the lock while a reader held it")
	}
	if !<-reader {
		t.Fatal("the reader held back by the writer was not released when the writer gave up")
	}
}

// TestLockTimeout: a writer waiting for the directory lock gives up after
// the lock timeout, with an error naming the directory and the holder.
func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	lockFile := filepath.Join(dir, LockFileName)
	s, err := NewFileStore(dir, WithLockTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	holdUpdate := func() (release func()) {
		other, err := NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		entered, leave, done := make(chan struct{}), make(chan struct{}), make(chan error)
		go func() {
			done <- other.Update("k", func([]byte, bool) ([]byte, error) {
				close(entered)
				<-leave
				return []byte("v"), nil
			})
		}()
		<-entered
		return func() {
			close(leave)
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	holdFile := func(exclusive bool, owner string) func() {
		return func() func() {
			unlock, err := storefs.OS{}.TryLock(lockFile, exclusive, []byte(owner))
			if err != nil {
				t.Fatal(err)
			}
			return func() { unlock() }
		}()
	}
	tests := []struct {
		reason    string
		hold      func() func()
		op        func() error
		exclusive bool
		holder    string
		pid       int
	}{
		{"another goroutine's Update holds it: named as such", holdUpdate,
			func() error { return s.Write("k", nil) }, false, "another goroutine of this process", os.Getpid()},
		{"another process holds it exclusively: its recorded PID is named",
			func() func() { return holdFile(true, "pid=4242 cmd=other since=2026-01-01T00:00:00Z\n") },
			func() error { return s.Delete("k") }, false, "pid=4242", 4242},
		{"another process holds it shared: nothing recorded",
			func() func() { return holdFile(false, "") },
			func() error { return s.Update("k", func([]byte, bool) ([]byte, error) { return nil, nil }) }, true, "", 0},
	}
	if err := s.Write("k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		release := tt.hold()
		start := time.Now()
		err := tt.op()
		waited := time.Since(start)
		release()
		var opErr *OpError
		var lockErr *LockError
		if !errors.Is(err, ErrLockTimeout) || !errors.As(err, &opErr) || opErr.Op != "lock" || opErr.Path != filepath.Join(dir, "k") || !errors.As(err, &lockErr) {
			t.Errorf("%s: got %v, want a lock *OpError wrapping a *LockError", tt.reason, err)
			continue
		}
		if lockErr.Dir != dir || lockErr.Exclusive != tt.exclusive || lockErr.HolderPID != tt.pid || !strings.Contains(lockErr.Holder, tt.holder) {
			t.Errorf("%s: %+v, want dir %s, holder %q, pid %d", tt.reason, lockErr, dir, tt.holder, tt.pid)
		}
		for _, w := range []string{dir, "timed out"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q does not say %q", tt.reason, err, w)
			}
		}
		if tt.pid != 0 && !strings.Contains(err.Error(), strconv.Itoa(tt.pid)) {
			t.Errorf("%s: message %q does not name the holder's PID", tt.reason, err)
		}
		if waited < 40*time.Millisecond || waited > 5*time.Second {
			t.Errorf("%s: waited %v for a 50ms timeout", tt.reason, waited)
		}
	}
	if got, err := s.Read("k"); err != nil || string(got) != "v" {
		t.Errorf("Read = %q, %v: only the first test's Update should have written", got, err)
	}
}

func TestUpdate(t *testing.T) {
	s, dir := newStore(t)
	errFn := errors.New("caller says no")
	if err := s.Update("k", func(old []byte, found bool) ([]byte, error) {
		if found || old != nil {
			t.Errorf("a missing key: old=%q found=%v", old, found)
		}
		return []byte("1"), nil
	}); err != nil {
		t.Fatal(err)
	}
	err := s.Update("k", func(old []byte, found bool) ([]byte, error) {
		if !found || string(old) != "1" {
			t.Errorf("old=%q found=%v, want 1", old, found)
		}
		return []byte("2"), errFn
	})
	var opErr *OpError
	if !errors.Is(err, errFn) || !errors.As(err, &opErr) || opErr.Op != "update" || opErr.Key != "k" {
		t.Errorf("a failing fn: %v, want an update *OpError wrapping its error", err)
	}
	if got, _ := s.Read("k"); string(got) != "1" {
		t.Errorf("a failing fn wrote %q", got)
	}
	if err := s.Update("../x", nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("invalid key: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("adir", func([]byte, bool) ([]byte, error) { return nil, nil }); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a directory under the key: %v, want ErrNotRegular (fn not called)", err)
	}
	// Read-modify-write from many goroutines and two stores: no update is
	// lost.
	other, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			st := s
			if g%2 == 1 {
				st = other
			}
			for range 10 {
				err := st.Update("counter", func(old []byte, found bool) ([]byte, error) {
					n := 0
					if found {
						n, _ = strconv.Atoi(string(old))
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
				}
				if err := st.Write(fmt.Sprintf("own-%d", g), []byte("x")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got, _ := s.Read("counter"); string(got) != "160" {
		t.Errorf("counter = %s, want 160: updates were lost", got)
	}
	assertNoTemp(t, dir)
}

func TestWithoutDirLock(t *testing.T) {
	s, dir := newStore(t, WithoutDirLock())
	if err := s.Write("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("k", func(old []byte, _ bool) ([]byte, error) { return append(old, '2'), nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("without the lock the directory holds %v, want nothing", names)
	}
}

func TestLockErrorMessage(t *testing.T) {
	tests := []struct {
		reason string
		err    *LockError
		want   []string
	}{
		{"holder known", &LockError{Dir: "/d", Exclusive: true, Waited: time.Second, Holder: `"pid=7"`, HolderPID: 7},
			[]string{"timed out", "exclusive", "/d", "1s", "pid=7"}},
		{"holder unknown", &LockError{Dir: "/d", Waited: time.Second},
			[]string{"shared", "/d", "holder unknown"}},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tt.reason, msg, w)
			}
		}
		if !errors.Is(tt.err, ErrLockTimeout) {
			t.Errorf("%s: does not wrap ErrLockTimeout", tt.reason)
		}
	}
}
