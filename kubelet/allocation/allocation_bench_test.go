package allocation_test

import (
	"testing"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/internal/codecbench"
)

// BenchmarkCodec is Decode, Encode and Examine on the realistic file kubelet
// wrote (see codecbench).
func BenchmarkCodec(b *testing.B) {
	codecbench.Run(b, codecbench.Codec[*allocation.PodResourceCheckpointInfo]{
		File:    "../../testdata/kubelet-generated/allocation/realistic/allocated_pods_state",
		Decode:  allocation.Decode,
		Encode:  func(s *allocation.PodResourceCheckpointInfo) ([]byte, error) { return allocation.Encode(*s) },
		Examine: allocation.Examine,
	})
}
