package migrate_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/migrate"
)

// Migrate a cpu_manager_state written by kubelet 1.17 (entries keyed by
// container ID) for kubelet 1.35, given the container map.
func ExamplePrepare() {
	v1 := []byte(`{"policyName":"static","defaultCpuSet":"0,3-7","entries":{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef":"1-2"},"checksum":1297605816}`)
	refs := map[string]migrate.ContainerRef{
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": {PodUID: "aaaaaaaa-0000-4000-8000-00000000000a", ContainerName: "app"},
	}
	p, err := migrate.Prepare("cpu_manager_state", v1, migrate.Options{To: compat.V(35), Containers: refs})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.From, "->", p.To, "for kubelet", p.Target, ":", p.Accepted.Outcome)
	fmt.Println(string(p.Data))
	// Output:
	// v1 -> v2 for kubelet 1.35 : accept
	// {"policyName":"static","defaultCpuSet":"0,3-7","entries":{"aaaaaaaa-0000-4000-8000-00000000000a":{"app":"1-2"}},"checksum":3313629053}
}
