package checkpointmanager

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// shared is a checkpoint type that holds values of other packages whose
// memory is shared with the rest of the program: a time.Time (its
// *Location is time.Local) and an *os.File other goroutines write to.
type shared struct {
	Stamp time.Time
	Count int
	log   *os.File
	Extra map[string]int
}

func (s *shared) MarshalCheckpoint() ([]byte, error)    { return json.Marshal(s) }
func (s *shared) UnmarshalCheckpoint(blob []byte) error { return json.Unmarshal(blob, s) }
func (s *shared) VerifyChecksum() error                 { return errVerify }

// A failed get undoes what decoding did to the object, and nothing else:
// memory of other packages that the object only points to (time.Local, an
// open file) is never written, so concurrent users of it are unaffected
// (run with -race).
func TestSnapshotLeavesForeignMemoryAlone(t *testing.T) {
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	obj := &shared{Stamp: time.Now(), Count: 1, log: logf, Extra: map[string]int{"a": 1}}
	before := *obj
	localBefore := time.Local.String()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = time.Now().Format(time.RFC3339)
				_, _ = logf.WriteString("x")
			}
		}
	}()
	s, err := takeSnapshot(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := obj.UnmarshalCheckpoint([]byte(`{"Stamp":"2024-06-01T12:00:00Z","Count":7,"Extra":{"b":2}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.restore(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	if !obj.Stamp.Equal(before.Stamp) || obj.Stamp.Location() != before.Stamp.Location() || obj.Count != 1 || obj.log != logf {
		t.Errorf("object not restored: %+v, want %+v", obj, before)
	}
	if len(obj.Extra) != 1 || obj.Extra["a"] != 1 {
		t.Errorf("map not restored: %v", obj.Extra)
	}
	if got := time.Local.String(); got != localBefore {
		t.Errorf("time.Local changed from %q to %q", localBefore, got)
	}
	if _, err := logf.WriteString("still usable"); err != nil {
		t.Errorf("the shared file is broken: %v", err)
	}
}
