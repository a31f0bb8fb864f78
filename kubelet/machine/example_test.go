package machine_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/machine"
)

func ExampleParseJSON() {
	m, err := machine.ParseJSON([]byte(`{"onlineCPUs": "0-7", "reservedSystemCPUs": "0",
		"numa": {"0": {"memoryTotal": 68719476736}}, "note": "ignored"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	online, _ := m.Online()
	fmt.Println(len(online), "CPUs online; NUMA nodes", m.Nodes(), machine.FormatBytes(m.NUMA[0].MemoryTotal))
	// Output: 8 CPUs online; NUMA nodes [0] 64 GiB
}
