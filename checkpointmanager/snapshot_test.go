package checkpointmanager

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
)

var errVerify = errors.New("verification failed")

// state is memory that a checkpoint fills through a pointer.
type state struct {
	Entries map[string][]int
	Names   []string
}

// wrapper decodes into memory it points to, and keeps unexported maps.
type wrapper struct {
	st     *state
	hidden map[string]int
	self   *wrapper // a cycle
	arr    [2]*int
	any    any
	fail   bool
}

func (w *wrapper) MarshalCheckpoint() ([]byte, error) { return json.Marshal(w.st) }
func (w *wrapper) UnmarshalCheckpoint(blob []byte) error {
	w.hidden["decoded"]++
	*w.arr[0] = 99
	w.any.(*state).Names[0] = "changed"
	return json.Unmarshal(blob, w.st)
}
func (w *wrapper) VerifyChecksum() error {
	if w.fail {
		return errVerify
	}
	return nil
}

// mapCheckpoint is a checkpoint that is a map.
type mapCheckpoint map[string]string

func (m mapCheckpoint) MarshalCheckpoint() ([]byte, error) { return json.Marshal(m) }
func (m mapCheckpoint) UnmarshalCheckpoint(blob []byte) error {
	return json.Unmarshal(blob, (*map[string]string)(&m))
}
func (m mapCheckpoint) VerifyChecksum() error { return errVerify }

func TestSnapshotRestoresInPlace(t *testing.T) {
	names := make([]string, 1, 4)
	names[0] = "n0"
	st := &state{Entries: map[string][]int{"a": {1}}, Names: names}
	one := 1
	other := &state{Names: []string{"x"}}
	w := &wrapper{st: st, hidden: map[string]int{}, arr: [2]*int{&one, nil}, any: other, fail: true}
	w.self = w
	entriesA := st.Entries["a"]
	m := &manager{maxSize: 1 << 20}
	err := m.fill("k", "", w, []byte(`{"Entries":{"a":[7],"b":[8]},"Names":["p","q","r"]}`))
	if !errors.Is(err, errVerify) {
		t.Fatalf("fill = %v, want the verification error", err)
	}
	if w.st != st || len(w.hidden) != 0 || w.self != w || w.arr[0] != &one || one != 1 || w.any != any(other) {
		t.Errorf("pointers or unexported fields not restored: %+v, one=%d", w, one)
	}
	if !reflect.DeepEqual(st, &state{Entries: map[string][]int{"a": {1}}, Names: []string{"n0"}}) || other.Names[0] != "x" {
		t.Errorf("the memory the checkpoint points to was not restored: %+v %+v", st, other)
	}
	if &st.Entries["a"][0] != &entriesA[0] || &st.Names[:1][0] != &names[0] || names[:3][1] != "" {
		t.Errorf("slices were replaced or their backing arrays not restored: %v", names[:3])
	}
	// Success fills in place: the memory the caller holds gets the data.
	w.fail = false
	if err := m.fill("k", "", w, []byte(`{"Entries":{"b":[8]},"Names":["p"]}`)); err != nil {
		t.Fatal(err)
	}
	if w.st != st || len(st.Entries["b"]) != 1 || st.Names[0] != "p" {
		t.Errorf("a successful get did not fill in place: %+v", st)
	}

	mc := mapCheckpoint{"keep": "1"}
	if err := m.fill("k", "", mc, []byte(`{"new":"2"}`)); !errors.Is(err, errVerify) {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mc, mapCheckpoint{"keep": "1"}) {
		t.Errorf("a map checkpoint was not restored: %v", mc)
	}
	// In place, as kubelet: left as far as decoding got.
	inPlace := &manager{maxSize: 1 << 20, inPlaceGet: true}
	if err := inPlace.fill("k", "", mc, []byte(`{"new":"2"}`)); !errors.Is(err, errVerify) {
		t.Fatal(err)
	}
	if mc["new"] != "2" {
		t.Errorf("WithInPlaceGet restored the object: %v", mc)
	}
}

// locked is a checkpoint object with a mutex that another goroutine may
// hold while a get fails: the restore must not touch it.
type locked struct {
	mu    sync.Mutex
	n     atomic.Int64
	Inner struct {
		mu   sync.RWMutex
		Data map[string]int
	}
	Name string
}

func TestSnapshotLeavesLocksAlone(t *testing.T) {
	v := &locked{Name: "before"}
	v.Inner.Data = map[string]int{"a": 1}
	s, err := takeSnapshot(v)
	if err != nil {
		t.Fatal(err)
	}
	v.mu.Lock() // taken by someone else meanwhile
	v.Inner.mu.RLock()
	v.n.Store(7)
	v.Name = "after"
	v.Inner.Data["b"] = 2
	if err := s.restore(); err != nil {
		t.Fatal(err)
	}
	if v.Name != "before" || len(v.Inner.Data) != 1 {
		t.Errorf("data not restored: %+v", v)
	}
	if v.mu.TryLock() || v.Inner.mu.TryLock() || v.n.Load() != 7 {
		t.Error("the restore changed a lock or an atomic value")
	}
	v.mu.Unlock()
	v.Inner.mu.RUnlock()
}

func TestSnapshotKinds(t *testing.T) {
	type inner struct {
		Ch    chan int
		Fn    func()
		Arr   [2]map[string]int
		Z     struct{}
		Zs    []struct{}
		Nil   *int
		Iface error
	}
	v := &inner{Ch: make(chan int), Fn: func() {}, Arr: [2]map[string]int{{"a": 1}}, Zs: make([]struct{}, 3), Iface: errVerify}
	s, err := takeSnapshot(v)
	if err != nil {
		t.Fatal(err)
	}
	ch := v.Ch
	v.Arr[0]["b"] = 2
	v.Arr[1] = map[string]int{}
	v.Ch = nil
	v.Iface = nil
	if err := s.restore(); err != nil {
		t.Fatal(err)
	}
	if v.Ch != ch || len(v.Arr[0]) != 1 || v.Arr[1] != nil || v.Iface != errVerify || v.Fn == nil {
		t.Errorf("not restored: %+v", v)
	}
	if _, err := takeSnapshot(nil); err != nil {
		t.Errorf("snapshot of nil: %v", err)
	}
}
