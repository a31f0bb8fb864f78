package devicemanager_test

import (
	"testing"

	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/internal/codecbench"
)

// BenchmarkCodec is Decode, Encode and Examine on the realistic file kubelet
// wrote (see codecbench).
func BenchmarkCodec(b *testing.B) {
	codecbench.Run(b, codecbench.Codec[*devicemanager.Checkpoint]{
		File:    "../../testdata/kubelet-generated/devicemanager/realistic/kubelet_internal_checkpoint",
		Decode:  devicemanager.Decode,
		Encode:  func(s *devicemanager.Checkpoint) ([]byte, error) { return devicemanager.Encode(*s) },
		Examine: devicemanager.Examine,
	})
}
