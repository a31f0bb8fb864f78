package compat

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck: Check never panics and always answers for every version of a
// kubelet checkpoint.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdata, "cases", "B0[124]*", "*"))
	more, _ := filepath.Glob(filepath.Join(testdata, "cases", "B1[278]*", "*"))
	for _, s := range append(seeds, more...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(filepath.Base(s), b)
		}
	}
	f.Add("dra_manager_state", []byte(`{"Data":"{\"ClaimInfoStateList\":null}","Checksum":1}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		r := Check(name, data)
		if len(r.Cells) != 0 && len(r.Cells) < NewestMinor-OldestMinor+1 {
			t.Fatalf("%d cells", len(r.Cells))
		}
		_ = r.Summary()
		_ = r.Table()
	})
}
