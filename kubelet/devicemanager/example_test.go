package devicemanager_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/devicemanager"
)

func ExampleExamine() {
	data := []byte(`{"Data":{"PodDeviceEntries":[{"PodUID":"pod-uid-1","ContainerName":"ctr-a","ResourceName":"example.com/gpu","DeviceIDs":{"0":["dev-0"],"1":["dev-2","dev-3"]},"AllocResp":"CgNhYmM="}],"RegisteredDevices":{"example.com/gpu":["dev-0","dev-1","dev-2","dev-3"]}},"Checksum":28559322}`)
	r := devicemanager.Examine(data)
	fmt.Println(r.Verdict, r.Format)
	for _, row := range r.Tables[1].Rows {
		fmt.Println(row)
	}
	// Output:
	// valid v2
	// [pod-uid-1 ctr-a example.com/gpu 0 dev-0]
	// [pod-uid-1 ctr-a example.com/gpu 1 dev-2,dev-3]
}

func ExampleEncode() {
	out, err := devicemanager.Encode(devicemanager.Checkpoint{
		PodDeviceEntries: []devicemanager.PodDevicesEntry{{
			PodUID: "pod-uid-1", ContainerName: "ctr-a", ResourceName: "example.com/gpu",
			DeviceIDs: devicemanager.DevicesPerNUMA{0: {"dev-0"}},
		}},
		RegisteredDevices: map[string][]string{"example.com/gpu": {"dev-0"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cp, err := devicemanager.Decode(out)
	fmt.Println(len(cp.PodDeviceEntries), err)
	// Output: 1 <nil>
}
