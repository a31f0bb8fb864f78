package prune_test

import (
	"fmt"
	"os"

	"github.com/ckptkit/ckpt/kubelet/prune"
)

func ExamplePlan() {
	path := "../../testdata/cases/B07-cpu-stale-entries-deleted-pods/cpu_manager_state"
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := prune.Plan(path, data, prune.Options{Keep: prune.NewPods("aaaaaaaa-0000-4000-8000-00000000000a")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Removed {
		fmt.Printf("stale: %s/%s holds %s\n", r.Pod, r.Name, r.Holds)
	}
	fmt.Println(res.Changes[0])
	// Output:
	// stale: bbbbbbbb-0000-4000-8000-00000000000b/db holds CPUs 3-4
	// default CPU set 0,5-7 -> 0,3-7
}
