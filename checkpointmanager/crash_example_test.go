package checkpointmanager_test

import (
	"fmt"
	"log"

	"github.com/ckptkit/ckpt/checkpointmanager"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	"github.com/ckptkit/ckpt/ckpttest/crashfs"
)

// Crash-testing checkpoint code: the manager runs over a simulated file
// system, and after every one of its file operations each state a power
// loss could leave is "rebooted" into and checked.
func ExampleWithFS() {
	fsys := crashfs.New()
	var acked int // claims acknowledged so far
	workload := func() error {
		m, err := checkpointmanager.NewCheckpointManagerWithOptions("/var/lib/plugin", checkpointmanager.WithFS(fsys))
		if err != nil {
			return err
		}
		state := &driverState{Claims: map[string]string{}}
		for i := range 3 {
			state.Claims[fmt.Sprint("claim-", i)] = "gpu-0"
			if err := m.CreateCheckpoint("checkpoint.json", state); err != nil {
				return err
			}
			acked = i + 1
		}
		return nil
	}
	check := func(c crashfs.Crash) error {
		m, err := checkpointmanager.NewCheckpointManagerWithOptions("/var/lib/plugin", checkpointmanager.WithFS(c.FS))
		if err != nil {
			return err
		}
		restored := &driverState{}
		err = m.GetCheckpoint("checkpoint.json", restored)
		switch {
		case err == cperrors.ErrCheckpointNotFound && acked == 0:
			return nil
		case err != nil:
			return err
		case len(restored.Claims) < acked || len(restored.Claims) > acked+1:
			return fmt.Errorf("%d claims restored, %d acknowledged", len(restored.Claims), acked)
		}
		return nil
	}
	report, err := crashfs.Explore(fsys, workload, check)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("violations:", report.NumViolations)
	// Output:
	// violations: 0
}
