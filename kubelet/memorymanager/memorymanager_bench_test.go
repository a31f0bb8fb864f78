package memorymanager_test

import (
	"testing"

	"github.com/ckptkit/ckpt/kubelet/internal/codecbench"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// BenchmarkCodec is Decode, Encode and Examine on the realistic file kubelet
// wrote (see codecbench).
func BenchmarkCodec(b *testing.B) {
	codecbench.Run(b, codecbench.Codec[*memorymanager.State]{
		File:    "../../testdata/kubelet-generated/memorymanager/realistic/memory_manager_state",
		Decode:  memorymanager.Decode,
		Encode:  memorymanager.Encode,
		Examine: memorymanager.Examine,
	})
}
