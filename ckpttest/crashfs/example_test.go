package crashfs_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
	"github.com/ckptkit/ckpt/store"
)

// Crash-testing code that writes through a store: after every file-system
// operation of the workload, every state a power loss could leave is
// rebooted into and checked.
func ExampleExplore() {
	fsys := crashfs.New()
	var acked, inFlight string // what the workload knows so far
	workload := func() error {
		s, err := store.NewFileStore("/var/lib/agent", store.WithFS(fsys))
		if err != nil {
			return err
		}
		for _, v := range []string{"v1", "v2", "v3"} {
			inFlight = v
			if err := s.Write("state", []byte(v)); err != nil {
				return err
			}
			acked, inFlight = v, ""
		}
		return nil
	}
	check := func(c crashfs.Crash) error {
		// The reboot: open the store again over what survived.
		s, err := store.NewFileStore("/var/lib/agent", store.WithFS(c.FS))
		if err != nil {
			return err
		}
		data, err := s.Read("state")
		got := string(data)
		if errors.Is(err, store.ErrKeyNotFound) {
			got = ""
		} else if err != nil {
			return err
		}
		if got != acked && got != inFlight {
			return fmt.Errorf("read %q, acknowledged %q, in flight %q", got, acked, inFlight)
		}
		return nil
	}
	report, err := crashfs.Explore(fsys, workload, check)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d crash points, %d crash states, %d violations\n", report.Points, report.States, report.NumViolations)
	// Output:
	// 21 crash points, 53 crash states, 0 violations
}
