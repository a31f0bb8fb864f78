package kubelet_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// FuzzExamine feeds arbitrary bytes, under every kind's file name, through
// detection and every decoder: nothing may panic, the verdict must be one
// of the five, and a failed result must carry an error.
func FuzzExamine(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/kubelet-vectors/*/*.json")
	gen, _ := filepath.Glob("../testdata/kubelet-generated/*/small/*")
	for _, p := range append(seeds, gen...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data, uint8(0))
		}
	}
	f.Add([]byte(""), uint8(1))
	f.Add([]byte("{\x00"), uint8(2))
	names := []string{"x.json", "cpu_manager_state", "memory_manager_state", "kubelet_internal_checkpoint",
		"dra_manager_state", "allocated_pods_state", "pod_status_manager_state", "sandbox/abc"}
	f.Fuzz(func(t *testing.T, data []byte, name uint8) {
		r := kubelet.Examine(names[int(name)%len(names)], data)
		switch r.Verdict {
		case check.Valid, check.Unverified:
			if r.Err != nil {
				t.Fatalf("%s with error %v", r.Verdict, r.Err)
			}
		case check.Corrupt, check.Invalid, check.Unknown:
			if r.Err == nil {
				t.Fatalf("%s without error", r.Verdict)
			}
		default:
			t.Fatalf("verdict %q", r.Verdict)
		}
	})
}
