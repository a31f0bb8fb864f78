package crashfs

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MaxStates bounds the crash states of one moment (before duplicates are
// removed); CrashStates fails with ErrTooManyStates beyond it rather than
// exhaust memory.
const MaxStates = 1 << 16

// ErrTooManyStates is returned by CrashStates and Explore when a moment has
// more than MaxStates crash states (too many unsynced files or directories
// at once).
var ErrTooManyStates = errors.New("crashfs: too many crash states")

// CrashStates returns every distinct file system a crash at this moment
// could leave (see the package documentation for the model), each as a new
// FS ("after the reboot") whose content is what survived, all of it
// durable, with no hook, faults, locks or open files. The current FS is not
// changed and can go on.
func (f *FS) CrashStates() ([]*FS, error) {
	f.mu.Lock()
	snap := make(map[int]*inode, len(f.inodes))
	for ino, n := range f.inodes {
		c := &inode{ino: n.ino, dir: n.dir, perm: n.perm, mtime: n.mtime}
		if n.dir {
			c.durable, c.log = cloneMap(n.durable), slices.Clone(n.log)
		} else {
			c.data, c.disk = slices.Clone(n.data), slices.Clone(n.disk)
			c.dirty = make(map[int]bool, len(n.dirty))
			for s := range n.dirty {
				c.dirty[s] = true
			}
		}
		snap[ino] = c
	}
	nextIno := f.nextIno
	f.mu.Unlock()

	combos, err := dirCombos(snap, rootIno)
	if err != nil {
		return nil, err
	}
	// Count the candidates first, so that nothing is built when there are
	// too many.
	type plan struct {
		combo    map[int]map[string]int
		files    []int
		variants [][][]byte
	}
	plans := make([]plan, 0, len(combos))
	candidates := 0
	for _, combo := range combos {
		p := plan{combo: combo, files: reachableFiles(snap, combo)}
		p.variants = make([][][]byte, len(p.files))
		product := 1
		for i, ino := range p.files {
			p.variants[i] = snap[ino].survivors(f.sector)
			if product *= len(p.variants[i]); product > MaxStates {
				return nil, ErrTooManyStates
			}
		}
		if candidates += product; candidates > MaxStates {
			return nil, ErrTooManyStates
		}
		plans = append(plans, p)
	}
	seen := map[[32]byte]bool{}
	var states []*FS
	for _, p := range plans {
		// Every combination of the files' variants (an odometer).
		pick := make([]int, len(p.files))
		for {
			img := f.image(snap, p.combo, p.files, p.variants, pick, nextIno)
			if key := img.fingerprint(); !seen[key] {
				seen[key] = true
				states = append(states, img)
			}
			i := 0
			for ; i < len(pick); i++ {
				if pick[i]++; pick[i] < len(p.variants[i]) {
					break
				}
				pick[i] = 0
			}
			if i == len(pick) {
				break
			}
		}
	}
	return states, nil
}

// dirCombos returns every combination of surviving entries of directory d
// and of the directories below it: for each, the entries of each directory.
func dirCombos(snap map[int]*inode, d int) ([]map[int]map[string]int, error) {
	n := snap[d]
	// The surviving entries are those of a prefix of the pending changes.
	cur := cloneMap(n.durable)
	options := []map[string]int{cloneMap(cur)}
	for _, op := range n.log {
		if op.from != "" {
			delete(cur, op.from)
		}
		if op.ino == 0 {
			delete(cur, op.name)
		} else {
			cur[op.name] = op.ino
		}
		if !slices.ContainsFunc(options, func(o map[string]int) bool { return equalMaps(o, cur) }) {
			options = append(options, cloneMap(cur))
		}
	}
	var result []map[int]map[string]int
	for _, entries := range options {
		partial := []map[int]map[string]int{{d: entries}}
		for _, name := range sortedNames(entries) {
			child := snap[entries[name]]
			if child == nil || !child.dir {
				continue
			}
			sub, err := dirCombos(snap, child.ino)
			if err != nil {
				return nil, err
			}
			var next []map[int]map[string]int
			for _, p := range partial {
				for _, s := range sub {
					merged := make(map[int]map[string]int, len(p)+len(s))
					for k, v := range p {
						merged[k] = v
					}
					for k, v := range s {
						merged[k] = v
					}
					next = append(next, merged)
				}
			}
			if len(next) > MaxStates {
				return nil, ErrTooManyStates
			}
			partial = next
		}
		result = append(result, partial...)
	}
	return result, nil
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sortedNames(m map[string]int) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// reachableFiles returns, sorted, the files named in a combination.
func reachableFiles(snap map[int]*inode, combo map[int]map[string]int) []int {
	set := map[int]bool{}
	for _, entries := range combo {
		for _, ino := range entries {
			if n := snap[ino]; n != nil && !n.dir {
				set[ino] = true
			}
		}
	}
	files := make([]int, 0, len(set))
	for ino := range set {
		files = append(files, ino)
	}
	sort.Ints(files)
	return files
}

// survivors returns the distinct contents a crash can leave in the file:
// its disk content, with a prefix (in offset order) of its dirty sectors
// written back, at the old size or the new one (zero-filled where no data
// arrived).
func (n *inode) survivors(sector int) [][]byte {
	sizes := []int{len(n.disk)}
	if len(n.data) != len(n.disk) {
		sizes = append(sizes, len(n.data))
	}
	sectors := make([]int, 0, len(n.dirty))
	for s := range n.dirty {
		sectors = append(sectors, s)
	}
	sort.Ints(sectors)
	var out [][]byte
	for _, size := range sizes {
		for k := 0; k <= len(sectors); k++ {
			buf := make([]byte, size)
			copy(buf, n.disk)
			for _, s := range sectors[:k] {
				lo := s * sector
				if lo < size && lo < len(n.data) {
					copy(buf[lo:min(size, lo+sector)], n.data[lo:min(len(n.data), lo+sector)])
				}
			}
			if !slices.ContainsFunc(out, func(b []byte) bool { return string(b) == string(buf) }) {
				out = append(out, buf)
			}
		}
	}
	return out
}

// image builds the FS of one crash state.
func (f *FS) image(snap map[int]*inode, combo map[int]map[string]int, files []int, variants [][][]byte, pick []int, nextIno int) *FS {
	img := New(WithSectorSize(f.sector), WithClock(f.now))
	img.nextIno = nextIno
	for d, entries := range combo {
		n := snap[d]
		img.inodes[d] = &inode{ino: d, dir: true, perm: n.perm, mtime: n.mtime, entries: cloneMap(entries), durable: cloneMap(entries)}
	}
	for i, ino := range files {
		n := snap[ino]
		content := variants[i][pick[i]]
		img.inodes[ino] = &inode{ino: ino, perm: n.perm, mtime: n.mtime, data: slices.Clone(content), disk: slices.Clone(content)}
	}
	return img
}

// fingerprint identifies the visible content of the FS: paths, kinds and
// file contents.
func (f *FS) fingerprint() [32]byte {
	var b strings.Builder
	var walk func(ino int, p string)
	walk = func(ino int, p string) {
		n := f.inodes[ino]
		if !n.dir {
			fmt.Fprintf(&b, "f %q %d %q\n", p, len(n.data), n.data)
			return
		}
		fmt.Fprintf(&b, "d %q\n", p)
		for _, name := range sortedNames(n.entries) {
			walk(n.entries[name], p+"/"+name)
		}
	}
	walk(rootIno, "")
	return sha256.Sum256([]byte(b.String()))
}

// Crash is one simulated crash handed to the check function of Explore.
type Crash struct {
	// Point numbers the crash points: 0 is before the workload's first
	// operation, i is right after its i-th operation that may change
	// the file system.
	Point int
	// After is that operation (zero at point 0).
	After Event
	// State numbers the states of this point from 0; States is how many
	// there are.
	State, States int
	// FS holds what survived the crash: reboot into it.
	FS *FS
}

// Violation is a crash state that check rejected.
type Violation struct {
	// Point, After and State identify the crash (see Crash).
	Point int
	After Event
	State int
	// Err is check's error.
	Err error
}

// String describes the violation.
func (v Violation) String() string {
	after := "before the first operation"
	if v.Point > 0 {
		after = "after " + v.After.String()
	}
	return fmt.Sprintf("crash point %d (%s), state %d: %v", v.Point, after, v.State, v.Err)
}

// MaxViolations is how many violations a Report keeps (it counts them all).
const MaxViolations = 20

// Report is the outcome of Explore.
type Report struct {
	// Points is the number of crash points, States the number of crash
	// states checked (distinct within each point).
	Points, States int
	// Violations are the first MaxViolations crash states check rejected;
	// NumViolations counts them all.
	Violations    []Violation
	NumViolations int
}

// Explore simulates a crash at every moment of a workload: before it starts
// and after each of its operations on fsys that may change the file
// system. At each of these crash points it takes every state the crash
// could leave (CrashStates) and calls check with it; check "reboots" into
// Crash.FS (opens a store over it, reads back) and returns an error when
// what it finds breaks its guarantees. check runs in the middle of the
// workload's operation, so it may look at what the workload has recorded so
// far (which writes were acknowledged, which one is in flight); it must not
// use fsys.
//
// The workload must be sequential (one goroutine). Explore returns the
// workload's error, or ErrTooManyStates, with the report so far.
func Explore(fsys *FS, workload func() error, check func(Crash) error) (Report, error) {
	var rep Report
	var failed error
	explore := func(e Event) {
		if failed != nil {
			return
		}
		states, err := fsys.CrashStates()
		if err != nil {
			failed = fmt.Errorf("crash point %d: %w", rep.Points, err)
			return
		}
		point := rep.Points
		rep.Points++
		for i, st := range states {
			rep.States++
			if err := check(Crash{Point: point, After: e, State: i, States: len(states), FS: st}); err != nil {
				rep.NumViolations++
				if len(rep.Violations) < MaxViolations {
					rep.Violations = append(rep.Violations, Violation{Point: point, After: e, State: i, Err: err})
				}
			}
		}
	}
	explore(Event{})
	fsys.SetHook(explore)
	defer fsys.SetHook(nil)
	if err := workload(); err != nil {
		return rep, err
	}
	return rep, failed
}
