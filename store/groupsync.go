package store

import (
	"sync"

	"github.com/ckptkit/ckpt/store/storefs"
)

// dirSyncer shares directory fsyncs between concurrent writers of one
// directory (group commit). A writer calls sync after its rename; it
// returns when a directory fsync that started after that call has
// finished, with that fsync's error. Writers that arrive while an fsync
// runs do not join it (it may have started before their rename): they
// form the next round, which one of them starts as soon as the running
// one ends, and all of them share its result. So every writer still
// returns only after a directory fsync that covers its rename, as with
// one fsync each, but N concurrent writers cost about two fsyncs instead
// of N.
//
// Each round opens the directory anew (storefs.FS.SyncDir): a failed
// fsync is reported to the writers of its round and never retried on the
// same descriptor.
type dirSyncer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	pending *syncRound // the round that has waiters and has not started
}

// syncRound is one directory fsync and the writers that wait for it.
type syncRound struct {
	waiters int // writers in the round (for tests)
	done    bool
	err     error
}

func newDirSyncer() *dirSyncer {
	d := &dirSyncer{}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// sync returns once a call of fsync that started after sync was called has
// returned, and that call's error.
func (d *dirSyncer) sync(fsync func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.pending
	if r == nil {
		r = &syncRound{}
		d.pending = r
	}
	r.waiters++
	for !r.done {
		if !d.running && d.pending == r {
			// Lead the round: nothing runs, and this round has not
			// started, so it starts after every waiter's rename.
			d.running = true
			d.pending = nil
			d.mu.Unlock()
			err := fsync()
			d.mu.Lock()
			r.err, r.done = err, true
			d.running = false
			d.cond.Broadcast()
			break
		}
		d.cond.Wait()
	}
	return r.err
}

// dirSyncers holds one dirSyncer per directory of the real file system,
// shared by every FileStore of this process on that directory (kubelet
// opens several managers on one directory). A FileStore over another file
// system has its own, as for the in-process lock (see procLocks).
var dirSyncers sync.Map // cleaned directory -> *dirSyncer

func (s *FileStore) syncer() *dirSyncer {
	if _, real := s.opts.fs.(storefs.OS); !real {
		return s.ownSyncer
	}
	if d, ok := dirSyncers.Load(s.dir); ok {
		return d.(*dirSyncer)
	}
	d, _ := dirSyncers.LoadOrStore(s.dir, newDirSyncer())
	return d.(*dirSyncer)
}

// syncDir flushes the directory's entries, sharing the fsync with
// concurrent writers.
func (s *FileStore) syncDir() error {
	return s.syncer().sync(func() error { return s.opts.fs.SyncDir(s.dir) })
}
