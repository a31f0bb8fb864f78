package memorymanager_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

func ExampleExamine() {
	// A V2 file (kubelet 1.36, pod-level entries) whose checksum was zeroed.
	res := memorymanager.Examine([]byte(`{"policyName":"Static","machineState":{"0":{"numberOfAssignments":1,` +
		`"memoryMap":{"memory":{"total":2048,"systemReserved":0,"allocatable":2048,"reserved":512,"free":1536}},"cells":[0]}},` +
		`"podEntries":{"pod":{"memoryBlocks":[{"numaAffinity":[0],"type":"memory","size":512}]}},"checksum":0}`))
	fmt.Println(res.Format, res.Verdict)
	fmt.Println(res.Tables[2].Rows[0])
	// Output:
	// v2 corrupt
	// [pod (pod-level) 0 memory 512]
}

func ExampleEncode() {
	out, err := memorymanager.Encode(&memorymanager.State{PolicyName: "None", MachineState: memorymanager.NUMANodeMap{}})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// {"policyName":"None","machineState":{},"checksum":4236770233,"data":"{\"policyName\":\"None\",\"machineState\":{}}","dataChecksum":3093843326}
}

func ExampleDecode() {
	s, err := memorymanager.Decode([]byte(`{"policyName":"None","machineState":{},"checksum":4236770233,` +
		`"data":"{\"policyName\":\"None\",\"machineState\":{}}","dataChecksum":3093843326}`))
	fmt.Println(s.PolicyName, len(s.MachineState), err)
	// Output:
	// None 0 <nil>
}
