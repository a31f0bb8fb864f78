package checkpointmanager_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	cmtesting "github.com/ckptkit/ckpt/checkpointmanager/testing"
	"github.com/ckptkit/ckpt/internal/fsx/fsxtest"
	"github.com/ckptkit/ckpt/store"
)

// rawCheckpoint is a checkpoint taken as opaque bytes: the cases below are
// about I/O, not formats.
type rawCheckpoint struct{ data []byte }

func (c *rawCheckpoint) MarshalCheckpoint() ([]byte, error)    { return c.data, nil }
func (c *rawCheckpoint) UnmarshalCheckpoint(blob []byte) error { c.data = blob; return nil }
func (c *rawCheckpoint) VerifyChecksum() error                 { return nil }

// faultyManager returns a manager over a copy of a case's checkpoint file,
// whose file operations go through a fault injector.
func faultyManager(t *testing.T, caseDir, key string) (checkpointmanager.CheckpointManager, *fsxtest.FS, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	data := copyVector(t, filepath.Join(testdata, "cases", caseDir, key), dir, key)
	faults := fsxtest.New(nil)
	m, err := checkpointmanager.NewCheckpointManagerWithOptions(dir, checkpointmanager.WithFS(faults))
	if err != nil {
		t.Fatal(err)
	}
	return m, faults, dir, data
}

// assertIntact fails unless dir holds exactly want (beside the lock file)
// and key's file is byte-identical to old.
func assertIntact(t *testing.T, reason, dir, key string, old []byte, want ...string) {
	t.Helper()
	if names := dirNames(t, dir); !slices.Equal(names, want) {
		t.Errorf("%s: directory holds %v, want %v (no temporary file)", reason, names, want)
	}
	if got, err := os.ReadFile(filepath.Join(dir, key)); err != nil || !bytes.Equal(got, old) {
		t.Errorf("%s: %s changed: %q, %v", reason, key, got, err)
	}
}

// TestB16DiskFull: a write on a full disk fails with ENOSPC, names key and
// path, leaves the previous checkpoint byte-identical and no temporary
// file; after space is freed the same write succeeds.
func TestB16DiskFull(t *testing.T) {
	const key = "kubelet_internal_checkpoint"
	m, faults, dir, old := faultyManager(t, "B16-device-disk-full-temp-file", key)
	updated := bytes.Replace(old, []byte(`"DeviceIDs"`), []byte(`"DeviceIDs" `), 1)
	tests := []struct {
		reason string
		fault  fsxtest.Fault
	}{
		{"the data does not fit", fsxtest.Fault{Op: fsxtest.OpWrite, Err: syscall.ENOSPC}},
		{"the temporary file cannot be created (no inode left)", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.ENOSPC}},
		{"a delayed allocation fails at fsync", fsxtest.Fault{Op: fsxtest.OpSync, Err: syscall.ENOSPC}},
	}
	for _, tt := range tests {
		faults.Reset()
		faults.Inject(tt.fault)
		err := m.CreateCheckpoint(key, &rawCheckpoint{updated})
		var ce *cperrors.CheckpointError
		if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &ce) || ce.Key != key || ce.Path != filepath.Join(dir, key) {
			t.Errorf("%s: got %v, want a *CheckpointError naming key and path wrapping ENOSPC", tt.reason, err)
		}
		assertIntact(t, tt.reason, dir, key, old, key)
	}
	faults.Reset() // space freed
	if err := m.CreateCheckpoint(key, &rawCheckpoint{updated}); err != nil {
		t.Fatalf("the same write after space was freed: %v", err)
	}
	assertIntact(t, "after space was freed", dir, key, updated, key)
}

// TestB28PermissionErrors: I/O errors are returned as such, wrapping the
// errno (fs.ErrPermission, EROFS), naming the path, never classed as
// corruption nor advising to delete the file; a write into a read-only
// directory leaves the file untouched.
func TestB28PermissionErrors(t *testing.T) {
	const key = "cpu_manager_state"
	m, faults, dir, old := faultyManager(t, "B28-permission-readonly-misleading-advice", key)
	path := filepath.Join(dir, key)
	tests := []struct {
		reason string
		fault  fsxtest.Fault
		op     func() error
		want   error
	}{
		{"unreadable file", fsxtest.Fault{Op: fsxtest.OpReadFile, Err: syscall.EACCES},
			func() error { return m.GetCheckpoint(key, &rawCheckpoint{}) }, fs.ErrPermission},
		{"directory not writable", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.EACCES},
			func() error { return m.CreateCheckpoint(key, &rawCheckpoint{[]byte("{}")}) }, fs.ErrPermission},
		{"read-only file system", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.EROFS},
			func() error { return m.CreateCheckpoint(key, &rawCheckpoint{[]byte("{}")}) }, syscall.EROFS},
		{"read-only file system, lock file missing", fsxtest.Fault{Op: fsxtest.OpTryLock, Err: syscall.EROFS},
			func() error { return m.CreateCheckpoint(key, &rawCheckpoint{[]byte("{}")}) }, syscall.EROFS},
		{"removal refused", fsxtest.Fault{Op: fsxtest.OpRemove, Err: syscall.EROFS},
			func() error { return m.RemoveCheckpoint(key) }, syscall.EROFS},
	}
	for _, tt := range tests {
		faults.Reset()
		faults.Inject(tt.fault)
		err := tt.op()
		var ce *cperrors.CheckpointError
		if !errors.Is(err, tt.want) || !errors.As(err, &ce) || ce.Path != path {
			t.Errorf("%s: got %v, want a *CheckpointError naming %s wrapping %v", tt.reason, err, path, tt.want)
			continue
		}
		if errors.Is(err, cperrors.ErrCorruptCheckpoint) || errors.Is(err, cperrors.ErrCheckpointNotFound) {
			t.Errorf("%s: an I/O error classed as corruption or absence: %v", tt.reason, err)
		}
		for _, advice := range []string{"delete", "drain", "remove the"} {
			if strings.Contains(strings.ToLower(err.Error()), advice) {
				t.Errorf("%s: %q gives deletion advice", tt.reason, err)
			}
		}
		assertIntact(t, tt.reason, dir, key, old, key)
	}
}

// allocCheckpoint is kubelet's allocated_pods_state format (1.33+): a JSON
// data string and checksum.New of it, as dataStringCheckpoint.
type allocCheckpoint = dataStringCheckpoint

// podEntries is the part of the allocation payload the test changes.
type podEntries struct {
	Entries map[string]json.RawMessage `json:"entries"`
}

func (c *allocCheckpoint) pods(t *testing.T) []string {
	t.Helper()
	var p podEntries
	if err := c.payload(&p); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(p.Entries))
}

// TestB26WriteFailureNoGhost: an update that cannot be persisted changes
// neither memory nor disk; after the fault, the state reloaded from disk
// equals what the API reported as committed.
func TestB26WriteFailureNoGhost(t *testing.T) {
	const key, podA, podB = "allocated_pods_state", "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b"
	m, faults, dir, old := faultyManager(t, "B26-alloc-write-failure-ghost", key)
	// 1. Load the state.
	memory := &allocCheckpoint{}
	if err := m.GetCheckpoint(key, memory); err != nil {
		t.Fatalf("the case's checkpoint does not load: %v", err)
	}
	if got := memory.pods(t); !slices.Equal(got, []string{podA}) {
		t.Fatalf("loaded pods %v", got)
	}
	change := func(add, remove string) func(cp *allocCheckpoint, found bool) error {
		return func(cp *allocCheckpoint, found bool) error {
			var p podEntries
			if err := cp.payload(&p); err != nil {
				return err
			}
			if add != "" {
				p.Entries[add] = json.RawMessage(`{"ContainerResources":{},"PodLevelResources":null,"EmptyDirVolumeLimits":null}`)
			}
			delete(p.Entries, remove)
			data, err := json.Marshal(p)
			cp.Data = string(data)
			return err
		}
	}
	fresh := func() *allocCheckpoint { return &allocCheckpoint{} }
	// 2.-3. The directory is unwritable, then full: adding pod B and
	// removing pod A fail, and memory keeps what disk has.
	for _, tt := range []struct {
		reason string
		fault  fsxtest.Fault
		errno  error
		add    string
		remove string
	}{
		{"add pod B, directory not writable", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.EACCES}, fs.ErrPermission, podB, ""},
		{"remove pod A, directory not writable", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.EACCES}, fs.ErrPermission, "", podA},
		{"add pod B, disk full", fsxtest.Fault{Op: fsxtest.OpWrite, Err: syscall.ENOSPC}, syscall.ENOSPC, podB, ""},
		{"remove pod A, rename fails", fsxtest.Fault{Op: fsxtest.OpRename, Err: syscall.EIO}, syscall.EIO, "", podA},
	} {
		faults.Reset()
		faults.Inject(tt.fault)
		next, err := checkpointmanager.Update(m, key, fresh, change(tt.add, tt.remove))
		if !errors.Is(err, tt.errno) || next != nil {
			t.Errorf("%s: Update = %v, %v; want no checkpoint and an error wrapping %v", tt.reason, next, err, tt.errno)
		}
		if err == nil {
			memory = next // (what a caller does on success)
		}
		if got := memory.pods(t); !slices.Equal(got, []string{podA}) {
			t.Errorf("%s: memory holds %v", tt.reason, got)
		}
		assertIntact(t, tt.reason, dir, key, old, key)
	}
	// 4. Permissions restored: the state reloaded from disk is what was
	// committed, pod A only; then the same update goes through.
	faults.Reset()
	reloaded := &allocCheckpoint{}
	if err := m.GetCheckpoint(key, reloaded); err != nil || !slices.Equal(reloaded.pods(t), memory.pods(t)) {
		t.Fatalf("reloaded %v (%v), memory %v", reloaded.pods(t), err, memory.pods(t))
	}
	next, err := checkpointmanager.Update(m, key, fresh, change(podB, podA))
	if err != nil {
		t.Fatal(err)
	}
	memory = next
	reloaded = &allocCheckpoint{}
	if err := m.GetCheckpoint(key, reloaded); err != nil || !slices.Equal(reloaded.pods(t), []string{podB}) || !slices.Equal(memory.pods(t), []string{podB}) {
		t.Errorf("after a committed update: disk %v (%v), memory %v; want pod B", reloaded.pods(t), err, memory.pods(t))
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{key}) {
		t.Errorf("directory holds %v", names)
	}
}

// TestUpdate covers Update's other paths: a missing checkpoint, a corrupt
// one (never overwritten), change's error, a store without Update, and a
// manager of another package.
func TestUpdate(t *testing.T) {
	m, dir := newManager(t)
	fresh := func() *dataStringCheckpoint { return &dataStringCheckpoint{} }
	set := func(s string) func(*dataStringCheckpoint, bool) error {
		return func(cp *dataStringCheckpoint, found bool) error { cp.Data = s; return nil }
	}
	cp, err := checkpointmanager.Update(m, "k", fresh, func(cp *dataStringCheckpoint, found bool) error {
		if found {
			t.Error("a missing checkpoint reported found")
		}
		cp.Data = "one"
		return nil
	})
	if err != nil || cp.Data != "one" {
		t.Fatalf("Update of a missing checkpoint = %+v, %v", cp, err)
	}
	errChange := errors.New("change refused")
	if _, err := checkpointmanager.Update(m, "k", fresh, func(*dataStringCheckpoint, bool) error { return errChange }); !errors.Is(err, errChange) {
		t.Errorf("change's error: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad"), []byte(`{"data":"x","checksum":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpointmanager.Update(m, "bad", fresh, set("y")); !errors.Is(err, cperrors.ErrCorruptCheckpoint) {
		t.Errorf("a corrupt checkpoint: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "bad")); string(got) != `{"data":"x","checksum":1}` {
		t.Errorf("a corrupt checkpoint was overwritten: %s", got)
	}
	if _, err := checkpointmanager.Update(m, "k", func() *dataStringCheckpoint { return nil }, set("y")); !errors.Is(err, checkpointmanager.ErrNilCheckpoint) {
		t.Errorf("a nil fresh checkpoint: %v", err)
	}
	small, _ := newManager(t, checkpointmanager.WithMaxCheckpointSize(4))
	if _, err := checkpointmanager.Update(small, "k", fresh, set("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpointmanager.Update(small, "k", fresh, set("y")); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("over the size limit: %v", err)
	}
	// A store.Store without Update, and another package's manager.
	plain, _ := newManager(t, checkpointmanager.WithStore(plainStore{cmtestingStore()}))
	for _, mgr := range []checkpointmanager.CheckpointManager{plain, otherManager{m}} {
		if cp, err := checkpointmanager.Update(mgr, "k2", fresh, set("a")); err != nil || cp.Data != "a" {
			t.Errorf("%T: Update = %+v, %v", mgr, cp, err)
		}
		cp, err := checkpointmanager.Update(mgr, "k2", fresh, func(cp *dataStringCheckpoint, found bool) error {
			if !found || cp.Data != "a" {
				t.Errorf("%T: found=%v data=%q", mgr, found, cp.Data)
			}
			cp.Data += "b"
			return nil
		})
		if err != nil || cp.Data != "ab" {
			t.Errorf("%T: second Update = %+v, %v", mgr, cp, err)
		}
		if _, err := checkpointmanager.Update(mgr, "k2", fresh, func(*dataStringCheckpoint, bool) error { return errChange }); !errors.Is(err, errChange) {
			t.Errorf("%T: change's error: %v", mgr, err)
		}
		if _, err := checkpointmanager.Update(mgr, "bad", fresh, set("z")); err == nil {
			t.Errorf("%T: a corrupt or missing-in-store checkpoint updated", mgr)
		}
	}
}

// plainStore hides MemStore's Update.
type plainStore struct{ store.Store }

func cmtestingStore() store.Store {
	s := cmtesting.NewMemStore()
	_ = s.Write("bad", []byte(`{"data":"x","checksum":1}`))
	return s
}

// otherManager is a CheckpointManager of another package.
type otherManager struct {
	checkpointmanager.CheckpointManager
}
