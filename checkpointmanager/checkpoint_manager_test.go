package checkpointmanager_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/checkpointmanager"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	cmtesting "github.com/ckptkit/ckpt/checkpointmanager/testing"
	v1 "github.com/ckptkit/ckpt/checkpointmanager/testing/example_checkpoint_formats/v1"
	"github.com/ckptkit/ckpt/internal/fsx/fsxtest"
	"github.com/ckptkit/ckpt/store"
)

const testdata = "../testdata"

// newManager returns a manager over a fresh directory.
func newManager(t *testing.T, opts ...checkpointmanager.Option) (checkpointmanager.CheckpointManager, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := checkpointmanager.NewCheckpointManagerWithOptions(dir, opts...)
	if err != nil {
		t.Fatalf("NewCheckpointManager(%s): %v", dir, err)
	}
	return m, dir
}

// example returns a filled example checkpoint.
func example(name string, port int32) *v1.CheckpointData {
	return &v1.CheckpointData{
		Version: "v1",
		Name:    name,
		Data:    &v1.Data{PortMappings: []*v1.PortMapping{v1.NewPortMapping("TCP", port, port)}, HostNetwork: true},
	}
}

// dirNames returns the names in dir but the store's lock file.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != store.LockFileName {
			names = append(names, e.Name())
		}
	}
	return names
}

// copyVector copies a testdata file into dir as key.
func copyVector(t *testing.T, src, dir, key string) []byte {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, key), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		reason string
		opts   []checkpointmanager.Option
	}{
		{"file store (kubelet's NewCheckpointManager)", nil},
		{"memory store", []checkpointmanager.Option{checkpointmanager.WithStore(cmtesting.NewMemStore())}},
	}
	for _, tt := range tests {
		m, _ := newManager(t, tt.opts...)
		for i, key := range []string{"key1", "key2", "key3"} {
			if err := m.CreateCheckpoint(key, example(key, int32(80+i))); err != nil {
				t.Fatalf("%s: CreateCheckpoint(%s): %v", tt.reason, key, err)
			}
		}
		var got v1.CheckpointData
		if err := m.GetCheckpoint("key2", &got); err != nil {
			t.Fatalf("%s: GetCheckpoint: %v", tt.reason, err)
		}
		if got.Name != "key2" || *got.Data.PortMappings[0].HostPort != 81 {
			t.Errorf("%s: got %+v", tt.reason, got)
		}
		keys, err := m.ListCheckpoints()
		if err != nil || fmt.Sprint(keys) != "[key1 key2 key3]" {
			t.Errorf("%s: ListCheckpoints = %v, %v", tt.reason, keys, err)
		}
		if err := m.RemoveCheckpoint("key2"); err != nil {
			t.Errorf("%s: RemoveCheckpoint: %v", tt.reason, err)
		}
		if err := m.RemoveCheckpoint("key2"); err != nil {
			t.Errorf("%s: RemoveCheckpoint of a missing key = %v, want nil", tt.reason, err)
		}
		if err := m.GetCheckpoint("key2", &got); err != cperrors.ErrCheckpointNotFound {
			t.Errorf("%s: GetCheckpoint after remove = %v, want ErrCheckpointNotFound itself", tt.reason, err)
		}
	}
}

// TestB29NotFound: on an empty state directory GetCheckpoint returns
// ErrCheckpointNotFound, unwrapped (== as kubelet callers compare) and for
// errors.Is.
func TestB29NotFound(t *testing.T) {
	m, dir := newManager(t)
	// The case's directory holds only its notes: no checkpoint files.
	for _, key := range []string{"kubelet_internal_checkpoint", "cpu_manager_state", "dra_manager_state", "memory_manager_state", "allocated_pods_state"} {
		if _, err := os.Stat(filepath.Join(testdata, "cases/B29-checkpoint-not-found-noise", key)); err == nil {
			t.Fatalf("case B29 unexpectedly holds %s", key)
		}
		var cp v1.CheckpointData
		err := m.GetCheckpoint(key, &cp)
		if err != cperrors.ErrCheckpointNotFound || !errors.Is(err, cperrors.ErrCheckpointNotFound) {
			t.Errorf("GetCheckpoint(%s) in an empty dir = %#v, want ErrCheckpointNotFound", key, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed get created files: %v", entries)
	}
}

// TestKubeletVector reads kubelet's example checkpoint through the manager,
// as kubelet's checkpoint_manager_test.go does.
func TestKubeletVector(t *testing.T) {
	m, dir := newManager(t)
	data := copyVector(t, filepath.Join(testdata, "kubelet-vectors/checkpointmanager/derived-example-v1.json"), dir, "check1")
	var cp v1.CheckpointData
	if err := m.GetCheckpoint("check1", &cp); err != nil {
		t.Fatalf("GetCheckpoint of kubelet's vector: %v", err)
	}
	// Writing it back gives kubelet's bytes exactly.
	if err := m.CreateCheckpoint("again", &cp); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(dir, "again"))
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("re-written checkpoint differs:\n got %s\nwant %s", again, data)
	}
}

// TestGetFillsThenVerifies pins kubelet's order, on which cpumanager V4 and
// memorymanager V3 rely, as WithInPlaceGet restores it: the object is
// filled even when the checksum fails.
func TestGetFillsThenVerifies(t *testing.T) {
	m, dir := newManager(t, checkpointmanager.WithInPlaceGet())
	data := copyVector(t, filepath.Join(testdata, "kubelet-vectors/checkpointmanager/derived-example-v1.json"), dir, "check1")
	bad := bytes.Replace(data, []byte("2813553683"), []byte("1234"), 1)
	if err := os.WriteFile(filepath.Join(dir, "check1"), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	var cp v1.CheckpointData
	err := m.GetCheckpoint("check1", &cp)
	if !errors.Is(err, cperrors.CorruptCheckpointError{}) || !errors.Is(err, cperrors.ErrCorruptCheckpoint) {
		t.Fatalf("GetCheckpoint = %v, want a corruption error", err)
	}
	if cp.Name != "check1" || cp.Data == nil {
		t.Errorf("object not filled before verification: %+v", cp)
	}
	var cs *cperrors.CorruptCheckpointError
	if !errors.As(err, &cs) || cs.ExpectedCS != 1234 || cs.ActualCS != 2813553683 {
		t.Errorf("checksums = %+v, want ActualCS=2813553683 (computed) ExpectedCS=1234 (stored)", cs)
	}
	var ce *cperrors.CheckpointError
	if !errors.As(err, &ce) || ce.Op != "get" || ce.Key != "check1" || ce.Path != filepath.Join(dir, "check1") {
		t.Errorf("error %#v does not name op, key and path", ce)
	}
	for _, w := range []string{"check1", "checkpoint is corrupted", "2813553683", "1234"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
}

// TestFailedGetLeavesObjectUntouched: by default a get that fails to decode
// or to verify leaves the caller's object as it was, with the same
// pointers; kubelet's half-filled object needs WithInPlaceGet.
func TestFailedGetLeavesObjectUntouched(t *testing.T) {
	m, dir := newManager(t)
	data := copyVector(t, filepath.Join(testdata, "kubelet-vectors/checkpointmanager/derived-example-v1.json"), dir, "check1")
	tests := []struct {
		reason  string
		content []byte
		want    error
	}{
		{"checksum mismatch", bytes.Replace(data, []byte("2813553683"), []byte("1234"), 1), cperrors.ErrCorruptCheckpoint},
		{"a type error after some fields were decoded", []byte(`{"Version":"v9","Name":"half","Data":{"HostNetwork":"yes"}}`), nil},
		{"truncated", data[:len(data)/2], nil},
	}
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, "check1"), tt.content, 0o600); err != nil {
			t.Fatal(err)
		}
		cp := example("mine", 8080)
		dataPtr, mapping := cp.Data, cp.Data.PortMappings[0]
		before := *example("mine", 8080)
		err := m.GetCheckpoint("check1", cp)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: GetCheckpoint = %v, want an error", tt.reason, err)
		}
		if cp.Data != dataPtr || cp.Data.PortMappings[0] != mapping {
			t.Errorf("%s: pointers were replaced", tt.reason)
		}
		if !reflect.DeepEqual(*cp, before) {
			t.Errorf("%s: object changed by a failed get:\n got %+v\nwant %+v", tt.reason, *cp, before)
		}
	}
	// Many goroutines, each its own object: failures never leak into them.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				cp := example("mine", 1)
				if err := m.GetCheckpoint("check1", cp); err == nil || cp.Name != "mine" {
					t.Errorf("concurrent failed get: %v, name %q", err, cp.Name)
				}
			}
		})
	}
	wg.Wait()
}

// marshalFails is a Checkpoint whose marshalling fails.
type marshalFails struct{ v1.CheckpointData }

var errMarshal = errors.New("cannot marshal")

func (*marshalFails) MarshalCheckpoint() ([]byte, error) { return nil, errMarshal }

func TestErrors(t *testing.T) {
	m, dir := newManager(t, checkpointmanager.WithMaxCheckpointSize(64))
	if err := os.WriteFile(filepath.Join(dir, "garbage"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "huge"), bytes.Repeat([]byte(" "), 65), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	memStore := cmtesting.NewMemStore()
	if err := memStore.Write("huge", bytes.Repeat([]byte(" "), 65)); err != nil {
		t.Fatal(err)
	}
	mem, _ := newManager(t, checkpointmanager.WithStore(memStore), checkpointmanager.WithMaxCheckpointSize(64))
	var cp v1.CheckpointData
	var nilPtr *v1.CheckpointData
	var syntax *json.SyntaxError
	tests := []struct {
		reason string
		err    error
		wantIs error
		wantAs any
		op     string
	}{
		{"undecodable file: the decoder's error, wrapped", m.GetCheckpoint("garbage", &cp), nil, &syntax, "get"},
		{"file over the size limit", m.GetCheckpoint("huge", &cp), store.ErrTooLarge, nil, "get"},
		{"value over the size limit in another store", mem.GetCheckpoint("huge", &cp), store.ErrTooLarge, nil, "get"},
		{"a directory is not a checkpoint", m.GetCheckpoint("adir", &cp), store.ErrNotRegular, nil, "get"},
		{"invalid key on get", m.GetCheckpoint("../etc/passwd", &cp), store.ErrInvalidKey, nil, "get"},
		{"invalid key on create", m.CreateCheckpoint(".hidden", example("x", 1)), store.ErrInvalidKey, nil, "create"},
		{"invalid key on remove", m.RemoveCheckpoint("a/b"), store.ErrInvalidKey, nil, "remove"},
		{"nil checkpoint on create", m.CreateCheckpoint("k", nil), checkpointmanager.ErrNilCheckpoint, nil, "create"},
		{"nil pointer checkpoint on get", m.GetCheckpoint("garbage", nilPtr), checkpointmanager.ErrNilCheckpoint, nil, "get"},
		{"marshalling fails", m.CreateCheckpoint("k", &marshalFails{}), errMarshal, nil, "create"},
	}
	for _, tt := range tests {
		if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
			t.Errorf("%s: got %v, want errors.Is %v", tt.reason, tt.err, tt.wantIs)
		}
		if tt.wantAs != nil && !errors.As(tt.err, tt.wantAs) {
			t.Errorf("%s: got %v, want errors.As %T", tt.reason, tt.err, tt.wantAs)
		}
		var ce *cperrors.CheckpointError
		if !errors.As(tt.err, &ce) || ce.Op != tt.op || ce.Key == "" {
			t.Errorf("%s: got %#v, want a *CheckpointError for %q naming the key", tt.reason, tt.err, tt.op)
		}
		if errors.Is(tt.err, cperrors.ErrCheckpointNotFound) || errors.Is(tt.err, cperrors.ErrCorruptCheckpoint) {
			t.Errorf("%s: %v is classed as not-found or corrupt", tt.reason, tt.err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); !os.IsNotExist(err) {
		t.Errorf("a failed create left a file: %v", err)
	}
}

// TestWriteFailureKeepsPrevious: a write that fails (disk full, B16) returns
// the errno, names key and path, and leaves the previous checkpoint intact
// and verifiable, with no temporary file.
func TestWriteFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	faults := fsxtest.New(nil)
	fs, err := store.NewFileStore(dir, store.WithFS(faults))
	if err != nil {
		t.Fatal(err)
	}
	m, err := checkpointmanager.NewCheckpointManagerWithOptions(dir, checkpointmanager.WithStore(fs))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateCheckpoint("state", example("old", 80)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "state"))
	tests := []struct {
		reason string
		fault  fsxtest.Fault
		errno  error
	}{
		{"disk full", fsxtest.Fault{Op: fsxtest.OpWrite, Err: syscall.ENOSPC}, syscall.ENOSPC},
		{"fsync fails", fsxtest.Fault{Op: fsxtest.OpSync, Err: syscall.EIO}, syscall.EIO},
		{"read-only file system", fsxtest.Fault{Op: fsxtest.OpOpenFile, Err: syscall.EROFS}, syscall.EROFS},
		{"rename fails", fsxtest.Fault{Op: fsxtest.OpRename, Err: syscall.EIO}, syscall.EIO},
	}
	for _, tt := range tests {
		faults.Reset()
		faults.Inject(tt.fault)
		err := m.CreateCheckpoint("state", example("new", 90))
		var ce *cperrors.CheckpointError
		if !errors.Is(err, tt.errno) || !errors.As(err, &ce) || ce.Key != "state" || ce.Path != filepath.Join(dir, "state") || ce.Op != "create" {
			t.Errorf("%s: got %v, want a create *CheckpointError wrapping %v", tt.reason, err, tt.errno)
		}
		faults.Reset()
		after, _ := os.ReadFile(filepath.Join(dir, "state"))
		if !bytes.Equal(before, after) {
			t.Errorf("%s: previous checkpoint changed", tt.reason)
		}
		var cp v1.CheckpointData
		if err := m.GetCheckpoint("state", &cp); err != nil || cp.Name != "old" {
			t.Errorf("%s: previous checkpoint does not verify: %v", tt.reason, err)
		}
		if names := dirNames(t, dir); fmt.Sprint(names) != "[state]" {
			t.Errorf("%s: directory holds %v, want only the checkpoint", tt.reason, names)
		}
	}
	faults.Inject(fsxtest.Fault{Op: fsxtest.OpSyncDir, Err: syscall.EIO})
	err = m.CreateCheckpoint("state", example("new", 90))
	if !errors.Is(err, store.ErrDurabilityUnknown) || !errors.Is(err, syscall.EIO) {
		t.Errorf("directory fsync failure = %v, want ErrDurabilityUnknown and EIO", err)
	}
	faults.Reset()
	faults.Inject(fsxtest.Fault{Op: fsxtest.OpReadDir, Err: syscall.EACCES})
	if _, err := m.ListCheckpoints(); !errors.Is(err, syscall.EACCES) {
		t.Errorf("ListCheckpoints = %v, want EACCES", err)
	}
}

func TestNewCheckpointManagerFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := checkpointmanager.NewCheckpointManager(file)
	var ce *cperrors.CheckpointError
	if !errors.Is(err, syscall.ENOTDIR) || !errors.As(err, &ce) || ce.Path != file {
		t.Errorf("NewCheckpointManager over a file = %v, want ENOTDIR naming the path", err)
	}
}

func TestListSkipsNonCheckpoints(t *testing.T) {
	m, dir := newManager(t)
	if err := m.CreateCheckpoint("b", example("b", 1)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".123456", "a"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if keys, err := m.ListCheckpoints(); err != nil || fmt.Sprint(keys) != "[a b]" {
		t.Errorf("ListCheckpoints = %v, %v; want [a b]", keys, err)
	}
}

// blockingStore is a store.Store whose operations on the key "slow" wait
// until released, and which records overlapping operations on one key.
type blockingStore struct {
	*cmtesting.MemStore
	release chan struct{}
	entered chan struct{}
	active  sync.Map // key -> *atomic.Int32
	overlap atomic.Bool
}

func (s *blockingStore) enter(key string) func() {
	n, _ := s.active.LoadOrStore(key, new(atomic.Int32))
	if n.(*atomic.Int32).Add(1) > 1 {
		s.overlap.Store(true)
	}
	if key == "slow" {
		s.entered <- struct{}{}
		<-s.release
	}
	return func() { n.(*atomic.Int32).Add(-1) }
}

func (s *blockingStore) Write(key string, data []byte) error {
	defer s.enter(key)()
	return s.MemStore.Write(key, data)
}

func (s *blockingStore) Read(key string) ([]byte, error) {
	defer s.enter(key)()
	return s.MemStore.Read(key)
}

// TestDifferentKeysDoNotWait: while one key's write is stuck, another key
// is written and read; the stuck key's other operations wait.
func TestDifferentKeysDoNotWait(t *testing.T) {
	s := &blockingStore{MemStore: cmtesting.NewMemStore(), release: make(chan struct{}), entered: make(chan struct{}, 2)}
	m, _ := newManager(t, checkpointmanager.WithStore(s))
	slowDone := make(chan error, 2)
	go func() { slowDone <- m.CreateCheckpoint("slow", example("slow", 1)) }()
	<-s.entered
	secondGet := make(chan error, 1)
	go func() {
		var cp v1.CheckpointData
		secondGet <- m.GetCheckpoint("slow", &cp)
	}()
	done := make(chan error, 1)
	go func() {
		if err := m.CreateCheckpoint("fast", example("fast", 2)); err != nil {
			done <- err
			return
		}
		var cp v1.CheckpointData
		done <- m.GetCheckpoint("fast", &cp)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an operation on another key waited for the stuck key")
	}
	select {
	case <-s.entered:
		t.Fatal("a get of the stuck key entered the store during its write")
	case <-time.After(50 * time.Millisecond):
	}
	close(s.release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	if err := <-secondGet; err != nil {
		t.Fatalf("get after the write: %v", err)
	}
	if s.overlap.Load() {
		t.Error("operations on one key overlapped in the store")
	}
}

// TestConcurrent runs many goroutines on distinct keys and on one shared key
// (under -race): every get sees a complete, verifying checkpoint.
func TestConcurrent(t *testing.T) {
	m, dir := newManager(t)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			own := fmt.Sprintf("own-%d", g)
			for i := range 10 {
				for _, key := range []string{own, "shared"} {
					if err := m.CreateCheckpoint(key, example(key, int32(g*100+i))); err != nil {
						t.Errorf("create %s: %v", key, err)
					}
					var cp v1.CheckpointData
					if err := m.GetCheckpoint(key, &cp); err != nil {
						t.Errorf("get %s: %v", key, err)
					}
				}
				if _, err := m.ListCheckpoints(); err != nil {
					t.Errorf("list: %v", err)
				}
			}
			if err := m.RemoveCheckpoint(own); err != nil {
				t.Errorf("remove: %v", err)
			}
		})
	}
	wg.Wait()
	if keys, err := m.ListCheckpoints(); err != nil || fmt.Sprint(keys) != "[shared]" {
		t.Errorf("ListCheckpoints = %v, %v; want [shared]", keys, err)
	}
	if names := dirNames(t, dir); fmt.Sprint(names) != "[shared]" {
		t.Errorf("directory holds %v, want only the checkpoint (no temporary files)", names)
	}
}
