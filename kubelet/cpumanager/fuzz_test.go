package cpumanager

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// FuzzExamine checks that Examine never panics, that its verdict and error
// agree, and that whatever Decode accepts re-encodes into a valid file.
func FuzzExamine(f *testing.F) {
	for _, pattern := range []string{
		"../../testdata/kubelet-vectors/cpumanager/*.json",
		"../../testdata/kubelet-generated/cpumanager/small/*",
		"../../testdata/cases/B0[1-7]*/cpu_manager_state*",
		"../../testdata/cases/B30*/*/cpu_manager_state",
		"../../testdata/cases/B27*/*/cpu_manager_state",
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := Examine(data)
		Sniff(data)
		ok := res.Verdict == check.Valid || res.Verdict == check.Unverified
		if ok != (res.Err == nil) {
			t.Fatalf("verdict %s with err %v", res.Verdict, res.Err)
		}
		s, err := Decode(data)
		if err != nil {
			return
		}
		out, err := Encode(s)
		if err != nil {
			return // a V2 file may hold cpusets Encode normalises or rejects
		}
		if r := Examine(out); r.Verdict != check.Valid {
			t.Fatalf("Encode(Decode(x)) is %s: %v", r.Verdict, r.Err)
		}
	})
}
