package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
	"github.com/ckptkit/ckpt/store"
	"github.com/ckptkit/ckpt/store/storefs"
)

// serialFS runs one operation at a time on a crashfs, under world, the
// lock that the workload's bookkeeping also takes. crashfs calls the crash
// hook inside the operation, so each crash point sees the file system and
// the bookkeeping of the same moment, while the goroutines of the workload
// still interleave, operation by operation, as the scheduler picks them.
type serialFS struct {
	fs    *crashfs.FS
	world *sync.Mutex
	syncs *atomic.Int64
	// skipDirSync makes SyncDir report success without syncing: a writer
	// that loses acknowledged writes, for the harness to catch.
	skipDirSync bool
}

func (s serialFS) do(f func() error) error {
	s.world.Lock()
	defer s.world.Unlock()
	return f()
}

func (s serialFS) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	var f storefs.File
	err := s.do(func() (err error) { f, err = s.fs.OpenFile(name, flag, perm); return })
	if err != nil {
		return nil, err
	}
	return serialFile{f, s}, nil
}
func (s serialFS) ReadFile(name string, limit int64) (b []byte, err error) {
	err = s.do(func() error { b, err = s.fs.ReadFile(name, limit); return err })
	return
}
func (s serialFS) Rename(o, n string) error { return s.do(func() error { return s.fs.Rename(o, n) }) }
func (s serialFS) Remove(name string) error { return s.do(func() error { return s.fs.Remove(name) }) }
func (s serialFS) Lstat(name string) (i fs.FileInfo, err error) {
	err = s.do(func() error { i, err = s.fs.Lstat(name); return err })
	return
}
func (s serialFS) Stat(name string) (i fs.FileInfo, err error) {
	err = s.do(func() error { i, err = s.fs.Stat(name); return err })
	return
}
func (s serialFS) ReadDir(dir string) (es []fs.DirEntry, err error) {
	err = s.do(func() error { es, err = s.fs.ReadDir(dir); return err })
	return
}
func (s serialFS) MkdirAll(dir string, perm fs.FileMode) error {
	return s.do(func() error { return s.fs.MkdirAll(dir, perm) })
}
func (s serialFS) SyncDir(dir string) error {
	s.syncs.Add(1)
	// A directory fsync takes a while on a disk: let the other writers
	// run meanwhile, so that they reach the store's group commit while
	// this one is in progress and share the next one.
	time.Sleep(200 * time.Microsecond)
	if s.skipDirSync {
		return nil
	}
	return s.do(func() error { return s.fs.SyncDir(dir) })
}
func (s serialFS) TryLock(name string, exclusive bool, owner []byte) (func() error, error) {
	var inner func() error
	err := s.do(func() (err error) { inner, err = s.fs.TryLock(name, exclusive, owner); return err })
	if err != nil {
		return nil, err
	}
	return func() error { return s.do(inner) }, nil
}

type serialFile struct {
	f storefs.File
	s serialFS
}

func (f serialFile) Name() string { return f.f.Name() }
func (f serialFile) Write(p []byte) (n int, err error) {
	err = f.s.do(func() error { n, err = f.f.Write(p); return err })
	return
}
func (f serialFile) Sync() error  { return f.s.do(f.f.Sync) }
func (f serialFile) Close() error { return f.s.do(f.f.Close) }

// TestCrashEnumerationConcurrent is the crash harness over concurrent
// writers of one directory, which share directory fsyncs (group commit):
// at every crash point of the interleaving, every write that returned
// reads back as its value or a later one, and a write in flight as the old
// or the new value. It also checks that the writers did share fsyncs, so
// that the group commit, not one fsync each, is what was tested.
func TestCrashEnumerationConcurrent(t *testing.T) {
	states, points, violations, shared := exploreConcurrent(t, false)
	fmt.Printf("concurrent crash enumeration: explored %d crash states at %d crash points in 3 interleavings of 4 writers, %d violations\n",
		states, points, violations)
	if violations != 0 {
		t.Errorf("%d violations", violations)
	}
	if shared == 0 {
		t.Error("no round shared a directory fsync: the group commit was not exercised")
	}
}

// TestCrashHarnessCatchesConcurrentLoss: the same harness over a file
// system whose directory fsync does nothing finds lost acknowledged writes.
func TestCrashHarnessCatchesConcurrentLoss(t *testing.T) {
	states, _, violations, _ := exploreConcurrent(t, true)
	fmt.Printf("concurrent writers without directory fsync: %d of %d crash states violate the guarantees\n", violations, states)
	if violations == 0 {
		t.Error("the harness did not catch writes acknowledged without a directory fsync")
	}
}

// exploreConcurrent runs 3 interleavings of 4 writers of 3 writes each
// under crashfs.Explore and returns the crash states and points explored,
// the violations, and in how many rounds writers shared directory fsyncs.
func exploreConcurrent(t *testing.T, skipDirSync bool) (totalStates, totalPoints, totalViolations, shared int) {
	t.Helper()
	const writers, writes = 4, 3
	for round := range 3 {
		fsys := crashfs.New()
		world := &sync.Mutex{}
		syncs := new(atomic.Int64)
		under := serialFS{fs: fsys, world: world, syncs: syncs, skipDirSync: skipDirSync}
		// The bookkeeping, under world: per key the last value whose
		// Write returned nil, and the value of the Write in flight.
		acked := map[string]*string{}
		inFlight := map[string]*string{}
		workload := func() error {
			s, err := store.NewFileStore(crashDir, store.WithFS(under))
			if err != nil {
				return err
			}
			syncs.Store(0) // count the writes' directory fsyncs only
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for g := range writers {
				key := fmt.Sprintf("k%d", g)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range writes {
						v := fmt.Sprintf("%s-v%d-%s", key, i, string(make([]byte, 40*i)))
						world.Lock()
						inFlight[key] = &v
						world.Unlock()
						err := s.Write(key, []byte(v))
						world.Lock()
						delete(inFlight, key)
						if err == nil {
							acked[key] = &v
						}
						world.Unlock()
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			return <-errs
		}
		check := func(c crashfs.Crash) error {
			// Called inside an operation, under world.
			s, err := store.NewFileStore(crashDir, store.WithFS(c.FS))
			if err != nil {
				return fmt.Errorf("%w: %w", errStoreFailed, err)
			}
			for g := range writers {
				key := fmt.Sprintf("k%d", g)
				data, err := s.Read(key)
				var got *string
				switch {
				case err == nil:
					got = val(string(data))
				case !errors.Is(err, store.ErrKeyNotFound):
					return fmt.Errorf("%w: Read(%s): %w", errStoreFailed, key, err)
				}
				ok := func(want *string) bool {
					return want == nil && got == nil || want != nil && got != nil && *want == *got
				}
				if !ok(acked[key]) && (inFlight[key] == nil || !ok(inFlight[key])) {
					return fmt.Errorf("%w: key %q reads %s; acknowledged %s, in flight %s",
						errLostAck, key, show(got), show(acked[key]), show(inFlight[key]))
				}
			}
			return nil
		}
		rep, err := crashfs.Explore(fsys, workload, check)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !skipDirSync {
			for _, v := range rep.Violations {
				t.Errorf("round %d: %v", round, v)
			}
		}
		totalStates += rep.States
		totalPoints += rep.Points
		totalViolations += rep.NumViolations
		if n := syncs.Load(); n < writers*writes {
			shared++
		}
		t.Logf("round %d: %d writers x %d writes, %d directory fsyncs; %d crash states at %d crash points, %d violations",
			round, writers, writes, syncs.Load(), rep.States, rep.Points, rep.NumViolations)
	}
	return totalStates, totalPoints, totalViolations, shared
}
