package cpumanager_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
)

func ExampleExamine() {
	// A V1 file as kubelet 1.17 wrote it, where CPU 1 went missing.
	res := cpumanager.Examine([]byte(`{"policyName":"static","defaultCpuSet":"0,2-3","checksum":1104188325}`))
	fmt.Println(res.Format, res.Verdict, res.Checksums[0].Rule)
	fmt.Println(res.Notes[len(res.Notes)-1])
	// Output:
	// v1 valid cpu.v1(legacy-name)
	// CPU 1 is in neither the default set nor any assignment (leaked, or offline)
}

func ExampleEncode() {
	out, err := cpumanager.Encode(&cpumanager.State{PolicyName: "none"})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// {"policyName":"none","defaultCpuSet":"","checksum":1353318690,"data":"{\"policyName\":\"none\",\"defaultCpuSet\":\"\"}","dataChecksum":3028111495}
}

func ExampleDecode() {
	s, err := cpumanager.Decode([]byte(`{"policyName":"static","defaultCpuSet":"0,3-7",` +
		`"entries":{"pod-a":{"app":"1-2"}},"checksum":1638346577}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.PolicyName, s.DefaultCPUSet, s.Entries["pod-a"]["app"])
	// Output:
	// static 0,3-7 1-2
}
