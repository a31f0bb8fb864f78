package migrate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/compat"
)

// FuzzPrepare: Prepare never panics, and a plan it returns verifies.
func FuzzPrepare(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdata, "kubelet-vectors", "*", "*.json"))
	for i, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(filepath.Base(filepath.Dir(s)), b, uint8(17+i%21), i%2 == 0)
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte, minor uint8, allowLoss bool) {
		v := compat.V(inRange(int(minor)))
		p, err := Prepare(name, data, Options{To: v, AllowLoss: allowLoss})
		if err != nil {
			return
		}
		if err := p.Verify(p.Data); err != nil {
			t.Fatalf("plan does not verify: %v", err)
		}
	})
}

// inRange maps any number into the matrix's range of minors.
func inRange(m int) int {
	return compat.OldestMinor + (m%(compat.NewestMinor-compat.OldestMinor+1)+(compat.NewestMinor-compat.OldestMinor+1))%(compat.NewestMinor-compat.OldestMinor+1)
}
