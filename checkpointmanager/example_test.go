package checkpointmanager_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/ckptkit/ckpt/checkpointmanager"
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// driverState is a third-party checkpoint written against kubelet's package:
// only its import paths changed to migrate.
type driverState struct {
	Claims   map[string]string `json:"claims"`
	Checksum checksum.Checksum `json:"checksum"`
}

func (s *driverState) MarshalCheckpoint() ([]byte, error) {
	s.Checksum = 0
	s.Checksum = checksum.New(*s)
	return json.Marshal(*s)
}

func (s *driverState) UnmarshalCheckpoint(blob []byte) error { return json.Unmarshal(blob, s) }

func (s *driverState) VerifyChecksum() error {
	stored := s.Checksum
	s.Checksum = 0
	defer func() { s.Checksum = stored }()
	return stored.Verify(*s)
}

// Migrating from kubelet's package: the calls are the same, including the
// not-found idiom.
func ExampleNewCheckpointManager() {
	dir, err := os.MkdirTemp("", "plugin")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// import "k8s.io/kubernetes/pkg/kubelet/checkpointmanager" becomes
	// import "github.com/ckptkit/ckpt/checkpointmanager"; nothing else.
	manager, err := checkpointmanager.NewCheckpointManager(dir)
	if err != nil {
		log.Fatal(err)
	}
	state := &driverState{}
	if err := manager.GetCheckpoint("checkpoint.json", state); err == cperrors.ErrCheckpointNotFound {
		fmt.Println("no checkpoint yet: starting empty")
		state.Claims = map[string]string{"claim-1": "gpu-0"}
		if err := manager.CreateCheckpoint("checkpoint.json", state); err != nil {
			log.Fatal(err)
		}
	}
	restored := &driverState{}
	if err := manager.GetCheckpoint("checkpoint.json", restored); err != nil {
		log.Fatal(err)
	}
	fmt.Println(restored.Claims)
	// Output:
	// no checkpoint yet: starting empty
	// map[claim-1:gpu-0]
}

// Creating and getting a checkpoint with options, and telling a corrupted
// checkpoint from other failures.
func ExampleNewCheckpointManagerWithOptions() {
	dir, err := os.MkdirTemp("", "plugin")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	manager, err := checkpointmanager.NewCheckpointManagerWithOptions(dir,
		checkpointmanager.WithMaxCheckpointSize(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	if err := manager.CreateCheckpoint("state", &driverState{Claims: map[string]string{"c": "d"}}); err != nil {
		log.Fatal(err)
	}
	// Someone edits the file by hand.
	if err := os.WriteFile(dir+"/state", []byte(`{"claims":{"c":"e"},"checksum":1}`), 0o600); err != nil {
		log.Fatal(err)
	}
	err = manager.GetCheckpoint("state", &driverState{})
	fmt.Println(errors.Is(err, cperrors.CorruptCheckpointError{}))
	var cs *cperrors.CorruptCheckpointError
	if errors.As(err, &cs) {
		fmt.Println("stored checksum", cs.ExpectedCS)
	}
	keys, _ := manager.ListCheckpoints()
	fmt.Println(keys)
	// Output:
	// true
	// stored checksum 1
	// [state]
}

// Updating a checkpoint all-or-nothing: the new state is adopted only when
// it is on disk, so memory and disk never disagree, and concurrent updaters
// (goroutines or processes) never lose one another's changes.
func ExampleUpdate() {
	dir, err := os.MkdirTemp("", "plugin")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	manager, err := checkpointmanager.NewCheckpointManager(dir)
	if err != nil {
		log.Fatal(err)
	}
	fresh := func() *driverState { return &driverState{Claims: map[string]string{}} }

	var current *driverState // the in-memory state
	for _, claim := range []string{"claim-1", "claim-2"} {
		next, err := checkpointmanager.Update(manager, "checkpoint.json", fresh, func(s *driverState, found bool) error {
			s.Claims[claim] = "gpu-0"
			return nil
		})
		if err != nil {
			// Nothing was stored: keep current, which matches the disk.
			log.Printf("claim %s not prepared: %v", claim, err)
			continue
		}
		current = next
	}
	fmt.Println(len(current.Claims), current.Claims["claim-2"])
	// Output:
	// 2 gpu-0
}
