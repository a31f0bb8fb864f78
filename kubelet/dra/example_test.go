package dra_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ckptkit/ckpt/kubelet/dra"
)

func ExampleExamine() {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cases", "B17-dra-api-field-added-checksum", "dra_manager_state.k129"))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := dra.Examine(data)
	fmt.Println(r.Verdict, r.Format)
	fmt.Println(r.Tables[0].Rows[0][1])
	// Output:
	// valid fnv-1.29
	// team-a/gpu-claim
}

func ExampleEncode() {
	out, err := dra.Encode(dra.CheckpointData{ClaimInfoStateList: []dra.ClaimInfoState{{
		ClaimUID: "uid-1", ClaimName: "claim-1", Namespace: "default",
		PodUIDs: map[string]struct{}{"pod-uid-1": {}},
		DriverState: map[string]dra.DriverState{"gpu.example.com": {Devices: []dra.Device{{
			PoolName: "node-1", DeviceName: "gpu-0", RequestNames: []string{"gpu"},
			CDIDeviceIDs: []string{"example.com/gpu=gpu-0"}}}}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := dra.Examine(out)
	fmt.Println(r.Verdict, r.Format, r.Notes[len(r.Notes)-1])
	// Output: valid crc32 1 claim, 1 pod, 1 driver, 1 device
}
