package dockershim_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/dockershim"
)

func ExampleExamine() {
	r := dockershim.Examine([]byte(`{"version":"v1","name":"fluentd-gcp-v2.0-vmnqx","namespace":"kube-system","data":{},"checksum":1799154314}`))
	fmt.Println(r.Verdict, r.Format)
	// Output: valid pre-1.10
}
