package memorymanager

import (
	"errors"
	"os"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// TestEncodeOlderLayouts re-encodes real files of each older layout from
// their decoded content and checks that the checksum comes out the same.
func TestEncodeOlderLayouts(t *testing.T) {
	tests := []struct {
		reason string
		file   string
		format string
		encode func(*State) ([]byte, error)
	}{
		{reason: "kubelet test vector, V1", file: "../../testdata/kubelet-vectors/memorymanager/v1-valid.json", format: FormatV1, encode: EncodeV1},
		{reason: "kubelet test vector, V2 with pod entries as 1.36 wrote it", file: "../../testdata/kubelet-vectors/memorymanager/v2-valid-podentries-1.36.json",
			format: FormatV2, encode: EncodeV2},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			orig, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			r0 := Examine(orig)
			if r0.Verdict != check.Valid {
				t.Fatalf("original: %s %v", r0.Verdict, r0.Err)
			}
			out, err := tt.encode(&r0.Content.(*Content).State)
			if err != nil {
				t.Fatal(err)
			}
			r := Examine(out)
			if r.Verdict != check.Valid || r.Format != tt.format {
				t.Fatalf("re-encoded: %s %s %v\n%s", r.Verdict, r.Format, r.Err, out)
			}
			if r.Checksums[0].Stored != r0.Checksums[0].Stored {
				t.Errorf("checksum %d, original %d", r.Checksums[0].Stored, r0.Checksums[0].Stored)
			}
		})
	}
	if _, err := EncodeV1(&State{PolicyName: "Static", PodEntries: PodMemoryAssignments{"p": {}}}); !errors.Is(err, ErrNotRepresentable) {
		t.Errorf("V1 with pod entries: err = %v, want ErrNotRepresentable", err)
	}
}
