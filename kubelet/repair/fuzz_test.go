package repair

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// FuzzPrepare: Prepare never panics, and what it plans to write is valid.
func FuzzPrepare(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdata, "kubelet-vectors", "*", "*.json"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(filepath.Base(filepath.Dir(s)), b)
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		p, err := Prepare(name, data, Options{BackupDir: "/nonexistent"})
		if err != nil || p.Unchanged {
			return
		}
		if r := kubelet.Examine(name, p.Data); r.Verdict != check.Valid {
			t.Fatalf("repaired file is %s: %v", r.Verdict, r.Err)
		}
	})
}
