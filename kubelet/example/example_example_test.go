package example_test

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/example"
)

func ExampleEncode() {
	port := int32(80)
	pm := &example.PortMapping{ContainerPort: &port, HostPort: &port}
	out, err := example.Encode(example.CheckpointData{Version: "v1", Name: "check1",
		Data: &example.Data{PortMappings: []*example.PortMapping{pm}, HostNetwork: true}})
	fmt.Println(string(out), err)
	r := example.Examine(out)
	fmt.Println(r.Verdict, r.Checksums[0].HashedText)
	// Output:
	// {"Version":"v1","Name":"check1","Data":{"port_mappings":[{"Protocol":null,"ContainerPort":80,"HostPort":80}],"host_network":true},"Checksum":2813553683} <nil>
	// valid (v1.Data){PortMappings:([]*v1.PortMapping)[<*>{Protocol:(*v1.protocol)<nil> ContainerPort:(*int32)80 HostPort:(*int32)80}] HostNetwork:(bool)true}
}
