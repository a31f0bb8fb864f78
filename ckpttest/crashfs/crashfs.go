package crashfs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ckptkit/ckpt/store/storefs"
)

// DefaultSectorSize is the granularity at which unsynced data survives a
// crash, the sector size of most disks.
const DefaultSectorSize = 512

// Op names an operation of the file system, for faults and events.
type Op string

// The operations of storefs.FS and storefs.File.
const (
	OpOpenFile Op = "open"
	OpWrite    Op = "write"
	OpSync     Op = "sync"
	OpClose    Op = "close"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpReadFile Op = "readfile"
	OpReadDir  Op = "readdir"
	OpMkdirAll Op = "mkdir"
	OpSyncDir  Op = "syncdir"
	OpLstat    Op = "lstat"
	OpStat     Op = "stat"
	OpTryLock  Op = "lock"
)

// Fault makes matching operations fail with Err, changing nothing, except a
// failed OpSync, which drops the file's unsynced data as Linux does (see the
// package documentation).
type Fault struct {
	// Op is the operation to fail.
	Op Op
	// Match selects paths (for Rename, the old path); nil matches all.
	Match func(path string) bool
	// Err is the cause, typically a syscall.Errno such as syscall.EIO.
	Err error
	// Times is how many matching calls fail; 0 means all of them.
	Times int
}

// Event is one operation that may have changed the file system: the point
// after which a crash is simulated.
type Event struct {
	// N numbers the events of the FS from 1.
	N int
	// Op is the operation.
	Op Op
	// Path is the path operated on (for a rename, "old -> new").
	Path string
	// Err is what the operation returned.
	Err error
}

// String describes the event, as "#3 rename /d/.k.tmp -> /d/k".
func (e Event) String() string {
	s := fmt.Sprintf("#%d %s %s", e.N, e.Op, e.Path)
	if e.Err != nil {
		s += " (failed: " + e.Err.Error() + ")"
	}
	return s
}

// Option configures New.
type Option interface{ apply(*FS) }

type optionFunc func(*FS)

func (f optionFunc) apply(fs *FS) { f(fs) }

// WithSectorSize sets the granularity of torn writes (DefaultSectorSize when
// n <= 0). A smaller size explores more states.
func WithSectorSize(n int) Option {
	return optionFunc(func(f *FS) {
		if n > 0 {
			f.sector = n
		}
	})
}

// WithClock sets the clock of modification times (time.Now by default).
func WithClock(now func() time.Time) Option {
	return optionFunc(func(f *FS) {
		if now != nil {
			f.now = now
		}
	})
}

// FS is the simulated file system. Paths are slash-separated and resolved
// from the root "/" (a relative path is taken from the root too). The zero
// value is not usable: use New.
type FS struct {
	sector int
	now    func() time.Time

	mu      sync.Mutex
	inodes  map[int]*inode
	nextIno int
	locks   map[int]*lockState
	faults  []*Fault
	events  int
	hook    func(Event)
}

var _ storefs.FS = (*FS)(nil)

// inode is a file or a directory, with what readers see and what is on disk.
type inode struct {
	ino   int
	dir   bool
	perm  fs.FileMode
	mtime time.Time

	// A file: data is what readers see; disk what stable storage holds;
	// dirty the sectors of data written since their last writeback.
	data  []byte
	disk  []byte
	dirty map[int]bool

	// A directory: entries is what readers see, durable what stable storage
	// holds, log the changes since the last SyncDir, oldest first.
	entries map[string]int
	durable map[string]int
	log     []dirOp
}

// dirOp is one pending change of a directory: name now links ino (0:
// unlinked), and, for a rename within the directory, from is unlinked in
// the same step.
type dirOp struct {
	name string
	ino  int
	from string
}

type lockState struct {
	exclusive bool
	shared    int
}

const rootIno = 1

// New returns an empty file system holding only the root directory, durably.
func New(opts ...Option) *FS {
	f := &FS{sector: DefaultSectorSize, now: time.Now, nextIno: rootIno + 1}
	for _, o := range opts {
		if o != nil {
			o.apply(f)
		}
	}
	f.inodes = map[int]*inode{rootIno: {ino: rootIno, dir: true, perm: 0o755, mtime: f.now(), entries: map[string]int{}, durable: map[string]int{}}}
	f.locks = map[int]*lockState{}
	return f
}

// SectorSize returns the granularity of torn writes.
func (f *FS) SectorSize() int { return f.sector }

// SetHook makes every operation that may change the file system call fn
// with its event, after the operation, outside the FS's lock (fn may call
// CrashStates). nil removes the hook.
func (f *FS) SetHook(fn func(Event)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = fn
}

// Inject adds a fault; faults are tried in the order they were added.
func (f *FS) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault)
}

// ClearFaults removes every fault.
func (f *FS) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Seed creates the file name holding data, with its missing parent
// directories, durably (as if everything had been fsynced), without calling
// the hook: the state a test starts from.
func (f *FS) Seed(name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	dir, base := path.Split(clean(name))
	d, err := f.mkdirAll(dir, 0o755)
	if err != nil {
		return err
	}
	if base == "" {
		return pathErr("open", name, syscall.EISDIR)
	}
	n := f.newInode(false, 0o600)
	n.data, n.disk = slices.Clone(data), slices.Clone(data)
	f.link(d, base, n.ino)
	f.syncAll()
	return nil
}

// syncAll makes everything durable.
func (f *FS) syncAll() {
	for _, n := range f.inodes {
		if n.dir {
			n.durable = cloneMap(n.entries)
			n.log = nil
		} else {
			n.disk = slices.Clone(n.data)
			n.dirty = nil
		}
	}
}

// fault returns the injected cause for op on p, or nil; f.mu must be held.
func (f *FS) fault(op Op, p string) error {
	for _, ft := range f.faults {
		if ft.Op != op || (ft.Match != nil && !ft.Match(p)) || ft.Times < 0 {
			continue
		}
		if ft.Times > 0 {
			ft.Times--
			if ft.Times == 0 {
				ft.Times = -1 // used up
			}
		}
		return ft.Err
	}
	return nil
}

// event records a state-changing operation and returns the hook to call
// once f.mu is released (nil when there is none); f.mu must be held.
func (f *FS) event(op Op, p string, err error) func() {
	f.events++
	e := Event{N: f.events, Op: op, Path: p, Err: err}
	if hook := f.hook; hook != nil {
		return func() { hook(e) }
	}
	return nil
}

// unlockAndNotify releases f.mu and calls the hook of the event, if any.
func (f *FS) unlockAndNotify(notify func()) {
	f.mu.Unlock()
	if notify != nil {
		notify()
	}
}

func clean(p string) string { return path.Clean("/" + p) }

func pathErr(op, p string, err error) error { return &fs.PathError{Op: op, Path: p, Err: err} }

func cloneMap(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (f *FS) newInode(dir bool, perm fs.FileMode) *inode {
	n := &inode{ino: f.nextIno, dir: dir, perm: perm & fs.ModePerm, mtime: f.now()}
	if dir {
		n.entries, n.durable = map[string]int{}, map[string]int{}
	}
	f.nextIno++
	f.inodes[n.ino] = n
	return n
}

// link makes name in directory d point to ino (0 removes it), visibly and
// as a pending change.
func (f *FS) link(d *inode, name string, ino int) {
	if ino == 0 {
		delete(d.entries, name)
	} else {
		d.entries[name] = ino
	}
	d.log = append(d.log, dirOp{name: name, ino: ino})
	d.mtime = f.now()
}

// walk resolves a cleaned absolute path to its inode.
func (f *FS) walk(p string) (*inode, error) {
	n := f.inodes[rootIno]
	if p == "/" {
		return n, nil
	}
	for _, elem := range strings.Split(p[1:], "/") {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		ino, ok := n.entries[elem]
		if !ok {
			return nil, syscall.ENOENT
		}
		n = f.inodes[ino]
	}
	return n, nil
}

// parent resolves the directory of a cleaned path and returns it with the
// last element.
func (f *FS) parent(p string) (*inode, string, error) {
	if p == "/" {
		return nil, "", syscall.EINVAL
	}
	dir, base := path.Split(p)
	d, err := f.walk(clean(dir))
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", syscall.ENOTDIR
	}
	return d, base, nil
}

// mkdirAll creates the cleaned directory p and its missing parents.
func (f *FS) mkdirAll(p string, perm fs.FileMode) (*inode, error) {
	p = clean(p)
	n := f.inodes[rootIno]
	if p == "/" {
		return n, nil
	}
	for _, elem := range strings.Split(p[1:], "/") {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		ino, ok := n.entries[elem]
		if !ok {
			child := f.newInode(true, perm)
			f.link(n, elem, child.ino)
			ino = child.ino
		}
		n = f.inodes[ino]
	}
	if !n.dir {
		return nil, syscall.ENOTDIR
	}
	return n, nil
}

// OpenFile opens or creates a file for writing, as os.OpenFile. A created
// file's name is a pending change of its directory.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	p := clean(name)
	f.mu.Lock()
	if cause := f.fault(OpOpenFile, p); cause != nil {
		f.mu.Unlock()
		return nil, pathErr("open", name, cause)
	}
	d, base, err := f.parent(p)
	if err != nil {
		f.mu.Unlock()
		return nil, pathErr("open", name, err)
	}
	var n *inode
	created := false
	if ino, ok := d.entries[base]; ok {
		n = f.inodes[ino]
		switch {
		case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
			err = syscall.EEXIST
		case n.dir && flag&(os.O_WRONLY|os.O_RDWR) != 0:
			err = syscall.EISDIR
		}
		if err != nil {
			f.mu.Unlock()
			return nil, pathErr("open", name, err)
		}
	} else {
		if flag&os.O_CREATE == 0 {
			f.mu.Unlock()
			return nil, pathErr("open", name, syscall.ENOENT)
		}
		n = f.newInode(false, perm)
		f.link(d, base, n.ino)
		created = true
	}
	truncated := flag&os.O_TRUNC != 0 && !n.dir && len(n.data) > 0
	if truncated {
		n.data = nil
		n.mtime = f.now()
	}
	var notify func()
	if created || truncated {
		notify = f.event(OpOpenFile, p, nil)
	}
	file := &file{fs: f, ino: n.ino, name: name, path: p, writable: flag&(os.O_WRONLY|os.O_RDWR) != 0, append: flag&os.O_APPEND != 0}
	f.unlockAndNotify(notify)
	return file, nil
}

// ReadFile returns what readers see of a file: its data, written or not.
func (f *FS) ReadFile(name string, limit int64) ([]byte, error) {
	p := clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if cause := f.fault(OpReadFile, p); cause != nil {
		return nil, pathErr("open", name, cause)
	}
	n, err := f.walk(p)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if n.dir {
		return nil, pathErr("read", name, fmt.Errorf("%w (mode %v)", storefs.ErrNotRegular, fs.ModeDir))
	}
	if int64(len(n.data)) > max(limit, 0) {
		return nil, pathErr("read", name, fmt.Errorf("%w: at least %d bytes, limit %d", storefs.ErrTooLarge, len(n.data), max(limit, 0)))
	}
	return slices.Clone(n.data), nil
}

// Rename replaces newpath with oldpath, as one pending change of their
// directory (two, unlink and link, across directories). Directories cannot
// be renamed (EXDEV): the model does not cover it.
func (f *FS) Rename(oldpath, newpath string) error {
	op, np := clean(oldpath), clean(newpath)
	f.mu.Lock()
	linkErr := func(err error) error { return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err} }
	if cause := f.fault(OpRename, op); cause != nil {
		f.mu.Unlock()
		return linkErr(cause)
	}
	err := f.rename(op, np)
	var notify func()
	if err == nil {
		notify = f.event(OpRename, op+" -> "+np, nil)
	}
	f.unlockAndNotify(notify)
	if err != nil {
		return linkErr(err)
	}
	return nil
}

func (f *FS) rename(op, np string) error {
	od, ob, err := f.parent(op)
	if err != nil {
		return err
	}
	nd, nb, err := f.parent(np)
	if err != nil {
		return err
	}
	ino, ok := od.entries[ob]
	if !ok {
		return syscall.ENOENT
	}
	if f.inodes[ino].dir {
		return syscall.EXDEV
	}
	if target, ok := nd.entries[nb]; ok {
		if f.inodes[target].dir {
			return syscall.EISDIR
		}
		if target == ino {
			return nil // the same file: rename(2) does nothing
		}
	}
	if od == nd {
		delete(od.entries, ob)
		od.entries[nb] = ino
		od.log = append(od.log, dirOp{name: nb, ino: ino, from: ob})
		od.mtime = f.now()
		return nil
	}
	f.link(od, ob, 0)
	f.link(nd, nb, ino)
	return nil
}

// Remove unlinks a file or an empty directory, as a pending change of its
// directory.
func (f *FS) Remove(name string) error {
	p := clean(name)
	f.mu.Lock()
	if cause := f.fault(OpRemove, p); cause != nil {
		f.mu.Unlock()
		return pathErr("remove", name, cause)
	}
	err := f.remove(p)
	var notify func()
	if err == nil {
		notify = f.event(OpRemove, p, nil)
	}
	f.unlockAndNotify(notify)
	if err != nil {
		return pathErr("remove", name, err)
	}
	return nil
}

func (f *FS) remove(p string) error {
	d, base, err := f.parent(p)
	if err != nil {
		return err
	}
	ino, ok := d.entries[base]
	if !ok {
		return syscall.ENOENT
	}
	if n := f.inodes[ino]; n.dir && len(n.entries) > 0 {
		return syscall.ENOTEMPTY
	}
	f.link(d, base, 0)
	return nil
}

// Lstat describes a file (there are no symbolic links).
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return f.stat(OpLstat, "lstat", name) }

// Stat describes a file.
func (f *FS) Stat(name string) (fs.FileInfo, error) { return f.stat(OpStat, "stat", name) }

func (f *FS) stat(op Op, opName, name string) (fs.FileInfo, error) {
	p := clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if cause := f.fault(op, p); cause != nil {
		return nil, pathErr(opName, name, cause)
	}
	n, err := f.walk(p)
	if err != nil {
		return nil, pathErr(opName, name, err)
	}
	return n.info(path.Base(p)), nil
}

// ReadDir lists a directory sorted by name.
func (f *FS) ReadDir(dir string) ([]fs.DirEntry, error) {
	p := clean(dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	if cause := f.fault(OpReadDir, p); cause != nil {
		return nil, pathErr("open", dir, cause)
	}
	d, err := f.walk(p)
	if err != nil {
		return nil, pathErr("open", dir, err)
	}
	if !d.dir {
		return nil, pathErr("readdirent", dir, syscall.ENOTDIR)
	}
	names := make([]string, 0, len(d.entries))
	for name := range d.entries {
		names = append(names, name)
	}
	sort.Strings(names)
	list := make([]fs.DirEntry, len(names))
	for i, name := range names {
		list[i] = fs.FileInfoToDirEntry(f.inodes[d.entries[name]].info(name))
	}
	return list, nil
}

// MkdirAll creates a directory and its parents; each new directory is a
// pending change of its parent.
func (f *FS) MkdirAll(dir string, perm fs.FileMode) error {
	p := clean(dir)
	f.mu.Lock()
	if cause := f.fault(OpMkdirAll, p); cause != nil {
		f.mu.Unlock()
		return pathErr("mkdir", dir, cause)
	}
	before := f.nextIno
	_, err := f.mkdirAll(p, perm)
	var notify func()
	if f.nextIno != before {
		notify = f.event(OpMkdirAll, p, err)
	}
	f.unlockAndNotify(notify)
	if err != nil {
		return pathErr("mkdir", dir, err)
	}
	return nil
}

// SyncDir makes a directory's pending changes durable. An injected failure
// leaves them pending.
func (f *FS) SyncDir(dir string) error {
	p := clean(dir)
	f.mu.Lock()
	if cause := f.fault(OpSyncDir, p); cause != nil {
		notify := f.event(OpSyncDir, p, cause)
		f.unlockAndNotify(notify)
		return pathErr("sync", dir, cause)
	}
	d, err := f.walk(p)
	if err == nil && !d.dir {
		err = syscall.ENOTDIR
	}
	if err != nil {
		f.mu.Unlock()
		return pathErr("open", dir, err)
	}
	d.durable = cloneMap(d.entries)
	d.log = nil
	f.unlockAndNotify(f.event(OpSyncDir, p, nil))
	return nil
}

// TryLock takes an in-memory advisory lock on the file name, creating it
// when missing; see storefs.FS.
func (f *FS) TryLock(name string, exclusive bool, owner []byte) (func() error, error) {
	p := clean(name)
	f.mu.Lock()
	if cause := f.fault(OpTryLock, p); cause != nil {
		f.mu.Unlock()
		return nil, pathErr("open", name, cause)
	}
	d, base, err := f.parent(p)
	if err != nil {
		f.mu.Unlock()
		return nil, pathErr("open", name, err)
	}
	var notify func()
	ino, ok := d.entries[base]
	if !ok {
		n := f.newInode(false, 0o600)
		f.link(d, base, n.ino)
		ino = n.ino
		notify = f.event(OpTryLock, p, nil)
	}
	n := f.inodes[ino]
	if n.dir {
		f.mu.Unlock()
		return nil, pathErr("lock", name, fmt.Errorf("%w (mode %v)", storefs.ErrNotRegular, fs.ModeDir))
	}
	l := f.locks[ino]
	if l == nil {
		l = &lockState{}
		f.locks[ino] = l
	}
	if l.exclusive || exclusive && l.shared > 0 {
		f.unlockAndNotify(notify)
		return nil, pathErr("flock", name, fmt.Errorf("%w: %w", storefs.ErrLocked, syscall.EWOULDBLOCK))
	}
	recorded := exclusive && len(owner) > 0
	if exclusive {
		l.exclusive = true
		if recorded {
			n.write(0, owner, true, f.sector)
		}
	} else {
		l.shared++
	}
	f.unlockAndNotify(notify)
	var once sync.Once
	return func() error {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if exclusive {
				l.exclusive = false
				if recorded {
					n.write(0, nil, true, f.sector)
				}
			} else {
				l.shared--
			}
		})
		return nil
	}, nil
}

// write puts p at off in the file's data (truncating first when trunc) and
// marks the touched sectors dirty.
func (n *inode) write(off int, p []byte, trunc bool, sector int) {
	if trunc {
		n.data = n.data[:0:0]
	}
	if end := off + len(p); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], p)
	if n.dirty == nil {
		n.dirty = map[int]bool{}
	}
	for s := off / sector; s*sector < off+len(p); s++ {
		n.dirty[s] = true
	}
}

// writeback makes the dirty sectors and the size durable.
func (n *inode) writeback(sector int) {
	disk := make([]byte, len(n.data))
	copy(disk, n.disk)
	for s := range n.dirty {
		lo := s * sector
		if lo < len(n.data) {
			copy(disk[lo:], n.data[lo:min(lo+sector, len(n.data))])
		}
	}
	n.disk, n.dirty = disk, nil
}

func (n *inode) info(name string) fs.FileInfo {
	fi := fileInfo{name: name, mode: n.perm, mtime: n.mtime, size: int64(len(n.data))}
	if n.dir {
		fi.mode |= fs.ModeDir
		fi.size = 0
	}
	return fi
}

type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// file is an open file of the FS.
type file struct {
	fs       *FS
	ino      int
	name     string
	path     string
	writable bool
	append   bool
	off      int
	closed   bool
}

var _ storefs.File = (*file)(nil)

// Name returns the name the file was opened with.
func (fl *file) Name() string { return fl.name }

// Write writes at the file's offset; an injected failure writes nothing.
func (fl *file) Write(p []byte) (int, error) {
	f := fl.fs
	f.mu.Lock()
	if fl.closed {
		f.mu.Unlock()
		return 0, pathErr("write", fl.name, os.ErrClosed)
	}
	if !fl.writable {
		f.mu.Unlock()
		return 0, pathErr("write", fl.name, syscall.EBADF)
	}
	if cause := f.fault(OpWrite, fl.path); cause != nil {
		f.mu.Unlock()
		return 0, pathErr("write", fl.name, cause)
	}
	n := f.inodes[fl.ino]
	if fl.append {
		fl.off = len(n.data)
	}
	n.write(fl.off, p, false, f.sector)
	n.mtime = f.now()
	fl.off += len(p)
	f.unlockAndNotify(f.event(OpWrite, fl.path, nil))
	return len(p), nil
}

// Sync writes the file's dirty sectors and size back. An injected failure
// drops the dirty sectors instead (they stay visible but never reach the
// disk) and is reported once: the next Sync succeeds.
func (fl *file) Sync() error {
	f := fl.fs
	f.mu.Lock()
	if fl.closed {
		f.mu.Unlock()
		return pathErr("sync", fl.name, os.ErrClosed)
	}
	n := f.inodes[fl.ino]
	if cause := f.fault(OpSync, fl.path); cause != nil {
		n.dirty = nil // Linux marks the pages clean: the data is lost
		notify := f.event(OpSync, fl.path, cause)
		f.unlockAndNotify(notify)
		return pathErr("sync", fl.name, cause)
	}
	n.writeback(f.sector)
	f.unlockAndNotify(f.event(OpSync, fl.path, nil))
	return nil
}

// Close closes the file; an injected failure still closes it.
func (fl *file) Close() error {
	f := fl.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl.closed {
		return pathErr("close", fl.name, os.ErrClosed)
	}
	fl.closed = true
	if cause := f.fault(OpClose, fl.path); cause != nil {
		return pathErr("close", fl.name, cause)
	}
	return nil
}
