package picture_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/picture"
)

func ExampleNewCPUGrid() {
	c := &cpumanager.Content{State: cpumanager.State{PolicyName: "static", DefaultCPUSet: "0,3-7",
		Entries: map[string]map[string]string{"pod-a": {"app": "1"}}}}
	g, err := picture.NewCPUGrid(c, &machine.Machine{OnlineCPUs: "0-7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(g.Render(false))
	// Output:
	// CPUs: 8, placed in order
	//     0 .    1 A    2 ?    3 .    4 .    5 .    6 .    7 .
	// Legend:
	//   .   default set (shared pool): 0,3-7
	//   A   pod-a/app: 1
	//   ?   held by nobody (leaked): 2
}
