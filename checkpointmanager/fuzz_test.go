package checkpointmanager_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	cmtesting "github.com/ckptkit/ckpt/checkpointmanager/testing"
	v1 "github.com/ckptkit/ckpt/checkpointmanager/testing/example_checkpoint_formats/v1"
)

const vectorPath = testdata + "/kubelet-vectors/checkpointmanager/derived-example-v1.json"

// FuzzGetCheckpoint reads arbitrary bytes through the manager into a
// pre-filled object: it never panics; a failed get leaves the object as it
// was; a successful one leaves an object that verifies.
func FuzzGetCheckpoint(f *testing.F) {
	vector, err := os.ReadFile(vectorPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vector)
	f.Add(bytes.Replace(vector, []byte("2813553683"), []byte("0"), 1))
	f.Add([]byte(`{"Version":"v1","Name":"x","Data":{"HostNetwork":"no"}}`))
	f.Add([]byte(`{"Data":null}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := cmtesting.NewMemStore()
		if err := s.Write("k", data); err != nil {
			t.Fatal(err)
		}
		m, err := checkpointmanager.NewCheckpointManagerWithOptions("", checkpointmanager.WithStore(s))
		if err != nil {
			t.Fatal(err)
		}
		cp := example("mine", 8080)
		err = m.GetCheckpoint("k", cp)
		if err != nil {
			if !reflect.DeepEqual(cp, example("mine", 8080)) {
				t.Fatalf("a failed get (%v) changed the object: %+v", err, cp)
			}
			return
		}
		if err := cp.VerifyChecksum(); err != nil {
			t.Fatalf("a successful get left an object that does not verify: %v", err)
		}
	})
}

// FuzzMutatedChecksum: kubelet's vector with any other checksum is never
// accepted.
func FuzzMutatedChecksum(f *testing.F) {
	vector, err := os.ReadFile(vectorPath)
	if err != nil {
		f.Fatal(err)
	}
	const stored = 2813553683
	for _, seed := range []uint64{0, 1, stored + 1, stored - 1, 1 << 32, stored | 1<<32} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sum uint64) {
		if sum == stored {
			return
		}
		dir := t.TempDir()
		mutated := bytes.Replace(vector, []byte(strconv.Itoa(stored)), []byte(strconv.FormatUint(sum, 10)), 1)
		if err := os.WriteFile(filepath.Join(dir, "k"), mutated, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := checkpointmanager.NewCheckpointManager(dir)
		if err != nil {
			t.Fatal(err)
		}
		var cp v1.CheckpointData
		if err := m.GetCheckpoint("k", &cp); !errors.Is(err, cperrors.ErrCorruptCheckpoint) {
			t.Fatalf("checksum %d: GetCheckpoint = %v, want a corruption error", sum, err)
		}
	})
}
