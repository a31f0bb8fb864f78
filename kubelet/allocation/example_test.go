package allocation_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/allocation"
)

func ExampleExamine() {
	data := []byte(`{"data":"{\"entries\":{\"pod-uid-1\":{\"ContainerResources\":{\"ctr-a\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"256Mi\"},\"requests\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}}},\"PodLevelResources\":null,\"EmptyDirVolumeLimits\":null}}}","checksum":176530711}`)
	r := allocation.Examine(data)
	fmt.Println(r.Verdict, r.Format)
	fmt.Println(r.Tables[0].Rows[0])
	// Output:
	// valid v1.33
	// [pod-uid-1 ctr-a cpu=500m,memory=128Mi cpu=1,memory=256Mi]
}

func ExampleEncode() {
	out, err := allocation.Encode(allocation.PodResourceCheckpointInfo{Entries: map[string]allocation.PodResourceInfo{
		"pod-uid-1": {ContainerResources: map[string]allocation.ResourceRequirements{
			"ctr-a": {Requests: allocation.ResourceList{"cpu": "500m"}},
		}},
	}})
	fmt.Println(string(out), err)
	// Output: {"data":"{\"entries\":{\"pod-uid-1\":{\"ContainerResources\":{\"ctr-a\":{\"requests\":{\"cpu\":\"500m\"}}},\"PodLevelResources\":null,\"EmptyDirVolumeLimits\":null}}}","checksum":3562979474} <nil>
}
