package doctor_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/doctor"
	"github.com/ckptkit/ckpt/kubelet/machine"
)

func ExampleRun() {
	m, _ := machine.ParseJSON([]byte(`{"onlineCPUs": "0-7"}`))
	rep, err := doctor.Run(doctor.Options{
		Dir:         "../../testdata/cases/B05-cpu-torn-multiwrite-leak-overlap/leak",
		Machine:     m,
		MachineArgs: []string{"--cpus", "0-7"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		if f.Severity == doctor.Error {
			fmt.Println(f.Code+":", f.Summary)
		}
	}
	// Output: cpus-leaked: leaked: 1-2
}
