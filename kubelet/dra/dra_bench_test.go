package dra_test

import (
	"testing"

	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/internal/codecbench"
)

// BenchmarkCodec is Decode, Encode and Examine on the realistic file kubelet
// wrote (see codecbench).
func BenchmarkCodec(b *testing.B) {
	codecbench.Run(b, codecbench.Codec[*dra.CheckpointData]{
		File:    "../../testdata/kubelet-generated/dra/realistic/dra_manager_state",
		Decode:  dra.Decode,
		Encode:  func(s *dra.CheckpointData) ([]byte, error) { return dra.Encode(*s) },
		Examine: dra.Examine,
	})
}
