package repair_test

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/repair"
)

// After an operator changed a container's CPUs in a V2 cpu_manager_state by
// hand, repair recomputes the checksum.
func ExamplePrepare() {
	edited := []byte(`{"policyName":"static","defaultCpuSet":"0,3-7","entries":{"aaaaaaaa-0000-4000-8000-00000000000a":{"app":"1-2"}},"checksum":1}`)
	p, err := repair.Prepare("cpu_manager_state", edited, repair.Options{BackupDir: "/nonexistent"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range p.Fixes {
		fmt.Printf("%s: %d -> %d\n", f.Field, f.Old, f.New)
	}
	fmt.Println(strings.HasSuffix(string(p.Data), `"checksum":3313629053}`))
	// Output:
	// checksum: 1 -> 3313629053
	// true
}
