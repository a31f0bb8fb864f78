package store

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// TestDirSyncerRounds: writers arriving while a directory fsync runs do not
// join it; they form one next round, run once, and share its result, while
// the running round's error goes to its own writers only.
func TestDirSyncerRounds(t *testing.T) {
	d := newDirSyncer()
	release := make(chan struct{})
	var calls atomic.Int64
	first := errors.New("first fsync failed")
	fsync := func() error {
		if calls.Add(1) == 1 {
			<-release
			return first
		}
		return nil
	}
	leader := make(chan error, 1)
	go func() { leader <- d.sync(fsync) }()
	waitFor(t, func() bool { return calls.Load() == 1 })

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = d.sync(fsync) }()
	}
	waitFor(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.pending != nil && d.pending.waiters == 3
	})
	close(release)
	if err := <-leader; !errors.Is(err, first) {
		t.Errorf("leader: %v, want the first round's error", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d of the second round: %v, want nil", i, err)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d fsyncs, want 2 (one per round)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// orderFS is the real file system, recording on one clock when each key
// was last renamed and when each directory fsync started and ended; the
// fsync is slowed down so that writers pile up.
type orderFS struct {
	storefs.OS
	clock    *atomic.Int64
	mu       *sync.Mutex
	renamed  map[string]int64
	syncs    *[][2]int64
	failOnce *atomic.Bool
}

func (o orderFS) Rename(oldpath, newpath string) error {
	err := o.OS.Rename(oldpath, newpath)
	o.mu.Lock()
	o.renamed[filepath.Base(newpath)] = o.clock.Add(1)
	o.mu.Unlock()
	return err
}

func (o orderFS) SyncDir(dir string) error {
	start := o.clock.Add(1)
	time.Sleep(2 * time.Millisecond)
	err := o.OS.SyncDir(dir)
	if o.failOnce.CompareAndSwap(true, false) {
		err = &fs.PathError{Op: "sync", Path: dir, Err: syscall.EIO}
	}
	end := o.clock.Add(1)
	o.mu.Lock()
	*o.syncs = append(*o.syncs, [2]int64{start, end})
	o.mu.Unlock()
	return err
}

// TestGroupCommitKeepsDurability: with 16 concurrent writers, every Write
// that returns nil returned after a directory fsync that started after its
// rename and ended before it returned (the guarantee of one fsync each),
// and the writers shared fsyncs.
func TestGroupCommitKeepsDurability(t *testing.T) {
	o := orderFS{clock: new(atomic.Int64), mu: new(sync.Mutex), renamed: map[string]int64{},
		syncs: new([][2]int64), failOnce: new(atomic.Bool)}
	o.failOnce.Store(true)
	s := mustStore(t, t.TempDir(), o)
	const writers, each = 16, 20
	var wg sync.WaitGroup
	var failed, covered atomic.Int64
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%02d", g)
			for i := range each {
				err := s.Write(key, []byte(fmt.Sprint(i)))
				ret := o.clock.Add(1)
				o.mu.Lock()
				renamed := o.renamed[key]
				ok := false
				for _, sy := range *o.syncs {
					if sy[0] > renamed && sy[1] < ret {
						ok = true
						break
					}
				}
				o.mu.Unlock()
				switch {
				case errors.Is(err, ErrDurabilityUnknown):
					failed.Add(1)
				case err != nil:
					t.Error(err)
				case !ok:
					t.Errorf("%s write %d returned at %d without a directory fsync after its rename at %d", key, i, ret, renamed)
				default:
					covered.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	o.mu.Lock()
	n := len(*o.syncs)
	o.mu.Unlock()
	if failed.Load() == 0 {
		t.Error("no writer saw the failed directory fsync")
	}
	if n >= writers*each {
		t.Errorf("%d directory fsyncs for %d writes: none shared", n, writers*each)
	}
	t.Logf("%d writes (%d covered, %d told durability unknown), %d directory fsyncs", writers*each, covered.Load(), failed.Load(), n)
}
