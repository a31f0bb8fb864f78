package safewrite_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ckptkit/ckpt/kubelet/fix/safewrite"
)

// Replace a checkpoint after making sure no kubelet runs, keeping a backup
// and checking what was written.
func ExampleReplace() {
	root, _ := os.MkdirTemp("", "safewrite-example")
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "kubelet")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.MkdirAll(filepath.Join(root, "proc"), 0o755) // a fake, empty proc tree
	path := filepath.Join(dir, "cpu_manager_state")
	_ = os.WriteFile(path, []byte(`{"old":true}`), 0o600)

	rep, err := safewrite.Replace(path, []byte(`{"new":true}`),
		func(b []byte) error {
			if len(b) == 0 {
				return errors.New("empty")
			}
			return nil
		},
		safewrite.Options{
			ProcRoot: filepath.Join(root, "proc"),
			Now:      func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	rel, _ := filepath.Rel(root, rep.Backup)
	fmt.Println("backup:", rel)
	fmt.Println("bytes:", rep.Bytes)
	// Output:
	// backup: ckpt-backup/cpu_manager_state.20260102T030405Z
	// bytes: 12
}
