package diff_test

import (
	"fmt"
	"os"

	"github.com/ckptkit/ckpt/kubelet/diff"
)

func ExampleCompare() {
	a, _ := os.ReadFile("../../testdata/cases/B07-cpu-stale-entries-deleted-pods/cpu_manager_state")
	b, _ := os.ReadFile("../../testdata/cases/B28-permission-readonly-misleading-advice/cpu_manager_state")
	d, err := diff.Compare("before/cpu_manager_state", a, "after/cpu_manager_state", b)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range d.Changes {
		fmt.Println(c.Section+":", c.Op, c.Key, c.From, "->", c.To, c.Detail)
	}
	// Output:
	// default set: changed default CPU set 0,5-7 -> 0,3-7 +CPUs 3-4
	// entries: removed bbbbbbbb-0000-4000-8000-00000000000b/db 3-4 ->
}
