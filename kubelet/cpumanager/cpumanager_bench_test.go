package cpumanager_test

import (
	"testing"

	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/internal/codecbench"
)

// BenchmarkCodec is Decode, Encode and Examine on the realistic file kubelet
// wrote (see codecbench).
func BenchmarkCodec(b *testing.B) {
	codecbench.Run(b, codecbench.Codec[*cpumanager.State]{
		File:    "../../testdata/kubelet-generated/cpumanager/realistic/cpu_manager_state",
		Decode:  cpumanager.Decode,
		Encode:  cpumanager.Encode,
		Examine: cpumanager.Examine,
	})
}
