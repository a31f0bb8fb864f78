package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
	"github.com/ckptkit/ckpt/store"
	"github.com/ckptkit/ckpt/store/storefs"
)

// The ways a crash state can break the store's guarantees.
var (
	errLostAck     = errors.New("an acknowledged write is lost")
	errTorn        = errors.New("a value is torn, zero-filled or unknown")
	errListed      = errors.New("List shows something that is not a stored key")
	errLeftover    = errors.New("a temporary file survived NewFileStore")
	errStoreFailed = errors.New("the store failed after the reboot")
)

const crashDir = "/var/lib/kubelet"

var ownTemp = regexp.MustCompile(`^\..*\.ckpt-tmp-[0-9a-f]{16}$`)

// keyModel is what the workload knows about one key: the last acknowledged
// value (nil: absent), the operation in flight (its value; nil for a
// delete), and values an operation that failed with unknown durability may
// have left.
type keyModel struct {
	acked     *string
	inFlight  bool
	next      *string
	uncertain []*string
	written   map[string]bool // every value ever written
}

// allowed returns the values a crash may leave under the key.
func (m *keyModel) allowed() []*string {
	vals := append([]*string{m.acked}, m.uncertain...)
	if m.inFlight {
		vals = append(vals, m.next)
	}
	return vals
}

func show(v *string) string {
	if v == nil {
		return "<absent>"
	}
	if len(*v) > 24 {
		return fmt.Sprintf("%q...(%d bytes)", (*v)[:24], len(*v))
	}
	return fmt.Sprintf("%q", *v)
}

// step is one operation of a workload.
type step struct {
	key    string
	value  *string // nil: delete
	update bool    // write through Update (appending to the old value)
	fault  *crashfs.Fault
}

func val(s string) *string { return &s }

// sized returns a value of n bytes that names itself.
func sized(tag string, n int) *string {
	s := tag + ":" + strings.Repeat(tag[:1], max(0, n-len(tag)-1))
	return &s
}

// workloadSteps creates, overwrites and removes three keys, with values
// from a few bytes to three sectors, so that torn writes show.
func workloadSteps() []step {
	return []step{
		{key: "a", value: val("a1")},
		{key: "b", value: sized("b1", 1300)},
		{key: "a", value: sized("a2", 700)},
		{key: "c", value: val("c1")},
		{key: "b"},
		{key: "b", value: sized("b2", 600)},
		{key: "c", value: sized("c2", 1100)},
		{key: "a"},
		{key: "a"}, // removing a missing key
		{key: "a", value: val("a3")},
		{key: "c", value: val("+u"), update: true},
		{key: "b", value: val("b3")},
		{key: "d", value: val("d1"), update: true},
		{key: "c"},
		{key: "d", value: sized("d2", 2000)},
	}
}

// scenario is a workload and the writer it runs against.
type scenario struct {
	reason string
	steps  []step
	// wrap weakens the file system under the store (nil: as it is).
	wrap func(*crashfs.FS) storefs.FS
	// sector is the granularity of torn writes (0: 512 bytes).
	sector int
}

// explore runs a scenario under crashfs.Explore and checks every crash
// state: every acknowledged write reads back as its value or a later one, a
// write in flight as the old or the new value, never torn, never missing
// when the old one existed; List shows only keys; NewFileStore removes the
// temporary files.
func explore(t *testing.T, sc scenario) crashfs.Report {
	t.Helper()
	fsys := crashfs.New(crashfs.WithSectorSize(sc.sector))
	var under storefs.FS = fsys
	if sc.wrap != nil {
		under = sc.wrap(fsys)
	}
	model := map[string]*keyModel{}
	for _, st := range sc.steps {
		if model[st.key] == nil {
			model[st.key] = &keyModel{written: map[string]bool{}}
		}
	}
	workload := func() error {
		s, err := store.NewFileStore(crashDir, store.WithFS(under))
		if err != nil {
			return err
		}
		for i, st := range sc.steps {
			m := model[st.key]
			m.inFlight, m.next = true, st.value
			if st.update && m.acked != nil {
				m.next = val(*m.acked + *st.value)
			}
			if m.next != nil {
				m.written[*m.next] = true
			}
			if st.fault != nil {
				fsys.Inject(*st.fault)
			}
			switch {
			case st.update:
				err = s.Update(st.key, func(old []byte, found bool) ([]byte, error) {
					return append(old, *st.value...), nil
				})
			case st.value == nil:
				err = s.Delete(st.key)
			default:
				err = s.Write(st.key, []byte(*st.value))
			}
			fsys.ClearFaults()
			m.inFlight = false
			switch {
			case err == nil:
				if st.value != nil || m.acked != nil {
					// The directory was fsynced: every earlier change
					// in it is durable now.
					for _, other := range model {
						other.uncertain = nil
					}
				}
				m.acked = m.next
			case st.fault == nil:
				return fmt.Errorf("step %d: %w", i, err)
			case errors.Is(err, store.ErrDurabilityUnknown):
				// Visible, durability unknown: the old value may come
				// back after a crash, until a later directory fsync.
				m.uncertain = append(m.uncertain, m.acked)
				m.acked = m.next
			default:
				// Failed before the rename: the old value stays.
			}
		}
		return nil
	}
	check := func(c crashfs.Crash) error {
		s, err := store.NewFileStore(crashDir, store.WithFS(c.FS))
		if err != nil {
			return fmt.Errorf("%w: NewFileStore: %w", errStoreFailed, err)
		}
		entries, err := c.FS.ReadDir(crashDir)
		if err != nil {
			return fmt.Errorf("%w: ReadDir: %w", errStoreFailed, err)
		}
		for _, e := range entries {
			if ownTemp.MatchString(e.Name()) {
				return fmt.Errorf("%w: %s", errLeftover, e.Name())
			}
		}
		keys, err := s.List()
		if err != nil {
			return fmt.Errorf("%w: List: %w", errStoreFailed, err)
		}
		listed := map[string]bool{}
		for _, k := range keys {
			if model[k] == nil {
				return fmt.Errorf("%w: %q", errListed, k)
			}
			listed[k] = true
		}
		for key, m := range model {
			data, err := s.Read(key)
			var got *string
			switch {
			case err == nil:
				got = val(string(data))
			case !errors.Is(err, store.ErrKeyNotFound):
				return fmt.Errorf("%w: Read(%s): %w", errStoreFailed, key, err)
			}
			if listed[key] != (got != nil) {
				return fmt.Errorf("%w: %q listed=%v but readable=%v", errListed, key, listed[key], got != nil)
			}
			ok := false
			for _, a := range m.allowed() {
				if (a == nil && got == nil) || (a != nil && got != nil && *a == *got) {
					ok = true
				}
			}
			if !ok {
				// Missing, or an older value: a write was lost; anything
				// else is a value never written whole.
				cause := errTorn
				if got == nil || m.written[*got] {
					cause = errLostAck
				}
				allowed := []string{}
				for _, a := range m.allowed() {
					allowed = append(allowed, show(a))
				}
				return fmt.Errorf("%w: key %q reads %s, want one of %v", cause, key, show(got), allowed)
			}
		}
		return nil
	}
	rep, err := crashfs.Explore(fsys, workload, check)
	if err != nil {
		t.Fatalf("%s: %v", sc.reason, err)
	}
	t.Logf("%s: explored %d crash states at %d crash points, %d violations", sc.reason, rep.States, rep.Points, rep.NumViolations)
	return rep
}

// TestCrashEnumeration is the exhaustive crash-point harness: for every
// crash point of the workloads and every state the crash model allows, the
// store's guarantees hold after the reboot.
func TestCrashEnumeration(t *testing.T) {
	isTemp := func(p string) bool { return ownTemp.MatchString(p[strings.LastIndex(p, "/")+1:]) }
	withFault := func(at int, f crashfs.Fault) []step {
		steps := workloadSteps()
		steps[at].fault = &f
		return steps
	}
	scenarios := []scenario{
		{reason: "create, overwrite, update and remove four keys", steps: workloadSteps()},
		{reason: "the same with 64-byte sectors (more torn states)", steps: workloadSteps(), sector: 64},
		{reason: "fsync of the temporary file fails (Linux drops the pages)",
			steps: withFault(2, crashfs.Fault{Op: crashfs.OpSync, Match: isTemp, Err: syscall.EIO, Times: 1})},
		{reason: "directory fsync fails after the rename",
			steps: withFault(5, crashfs.Fault{Op: crashfs.OpSyncDir, Err: syscall.EIO, Times: 1})},
		{reason: "disk full while writing",
			steps: withFault(6, crashfs.Fault{Op: crashfs.OpWrite, Err: syscall.ENOSPC, Times: 1})},
		{reason: "rename fails",
			steps: withFault(9, crashfs.Fault{Op: crashfs.OpRename, Err: syscall.EIO, Times: 1})},
	}
	var states, points, violations int
	for _, sc := range scenarios {
		rep := explore(t, sc)
		states += rep.States
		points += rep.Points
		violations += rep.NumViolations
		for _, v := range rep.Violations {
			t.Errorf("%s: %v", sc.reason, v)
		}
	}
	if states < 1000 {
		t.Errorf("only %d crash states explored: the model or the harness lost its reach", states)
	}
	fmt.Println(fmt.Sprintf("crash enumeration: explored %d crash states at %d crash points in %d scenarios, %d violations",
		states, points, len(scenarios), violations))
}

// noDirSync is kubelet's write sequence: everything but the directory
// fsync.
type noDirSync struct{ *crashfs.FS }

func (noDirSync) SyncDir(string) error { return nil }

// noFileSync skips the fsync of the file data.
type noFileSync struct{ *crashfs.FS }

func (w noFileSync) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	f, err := w.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return skipSync{f}, nil
}

type skipSync struct{ storefs.File }

func (skipSync) Sync() error { return nil }

// retrySync retries a failed fsync on the same file, the mistake of
// PostgreSQL before 2018 ("fsyncgate"): on Linux the retry succeeds because
// the failed one dropped the dirty pages.
type retrySync struct{ *crashfs.FS }

func (w retrySync) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	f, err := w.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return retryingFile{f}, nil
}

type retryingFile struct{ storefs.File }

func (f retryingFile) Sync() error {
	if err := f.File.Sync(); err != nil {
		return f.File.Sync()
	}
	return nil
}

// TestCrashHarnessCatchesWeakWriters shows that the harness can fail: a
// writer without the directory fsync (kubelet's sequence) loses
// acknowledged writes; one without the file fsync, or one retrying a failed
// fsync, leaves torn or zero-filled values behind.
func TestCrashHarnessCatchesWeakWriters(t *testing.T) {
	failingSync := workloadSteps()
	failingSync[1].fault = &crashfs.Fault{Op: crashfs.OpSync, Err: syscall.EIO, Times: 1}
	tests := []struct {
		reason string
		wrap   func(*crashfs.FS) storefs.FS
		steps  []step
		want   error
	}{
		{"no directory fsync (kubelet's sequence)", func(f *crashfs.FS) storefs.FS { return noDirSync{f} }, workloadSteps(), errLostAck},
		{"no file fsync", func(f *crashfs.FS) storefs.FS { return noFileSync{f} }, workloadSteps(), errTorn},
		{"fsync retried after it failed", func(f *crashfs.FS) storefs.FS { return retrySync{f} }, failingSync, errTorn},
	}
	for _, tt := range tests {
		rep := explore(t, scenario{reason: tt.reason, steps: tt.steps, wrap: tt.wrap})
		found := false
		for _, v := range rep.Violations {
			if errors.Is(v.Err, tt.want) {
				found = true
				t.Logf("%s: caught: %v", tt.reason, v)
				break
			}
		}
		if !found {
			t.Errorf("%s: %d violations, none is %q: %v", tt.reason, rep.NumViolations, tt.want, rep.Violations)
		}
		fmt.Printf("weakened writer %q: %d of %d crash states violate the guarantees\n", tt.reason, rep.NumViolations, rep.States)
	}
}

// FuzzCrashConsistency runs the crash harness on workloads decoded from the
// input (at most eight operations on three keys, some with an injected
// fault): no crash state may break the store's guarantees.
func FuzzCrashConsistency(f *testing.F) {
	f.Add([]byte{0, 3, 7, 12, 1, 200, 5})
	f.Add([]byte{2, 2, 2, 130, 131, 132})
	f.Add([]byte{9, 250, 251, 252, 253, 254, 255, 4})
	faults := []crashfs.Fault{
		{Op: crashfs.OpSync, Err: syscall.EIO, Times: 1},
		{Op: crashfs.OpSyncDir, Err: syscall.EIO, Times: 1},
		{Op: crashfs.OpWrite, Err: syscall.ENOSPC, Times: 1},
		{Op: crashfs.OpRename, Err: syscall.EIO, Times: 1},
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		var steps []step
		for i, b := range program[:min(len(program), 8)] {
			st := step{key: string("abc"[int(b)%3])}
			tag := fmt.Sprintf("%s%d", st.key, i)
			switch (b / 3) % 4 {
			case 0:
				st.value = val(tag)
			case 1:
				st.value = sized(tag, 100+int(b)*6)
			case 2: // delete
			case 3:
				st.value, st.update = val("+"+tag), true
			}
			if b >= 240 {
				st.fault = &faults[int(b)%len(faults)]
			}
			steps = append(steps, st)
		}
		rep := explore(t, scenario{reason: fmt.Sprintf("workload %v", program), steps: steps})
		for _, v := range rep.Violations {
			t.Errorf("%v", v)
		}
	})
}
