package compat_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/compat"
)

// Which kubelet versions accept a cpu_manager_state written by 1.18-1.35?
func ExampleCheck() {
	data := []byte(`{"policyName":"static","defaultCpuSet":"0,3-7","entries":{"aaaaaaaa-0000-4000-8000-00000000000a":{"app":"1-2"}},"checksum":3313629053}`)
	r := compat.Check("cpu_manager_state", data)
	fmt.Println(r.Format, r.Verdict)
	fmt.Println(r.Summary())
	c, _ := r.Lookup(compat.V(37), compat.Gates{compat.PodLevelResourceManagers: true})
	fmt.Println("1.37 with PodLevelResourceManagers:", c.Outcome, "as", c.ReadsAs)
	// Output:
	// v2 valid
	// accepted by kubelet 1.18-1.37; rejected by 1.17
	// 1.37 with PodLevelResourceManagers: accept as V2
}
