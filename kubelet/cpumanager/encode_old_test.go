package cpumanager

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// TestEncodeOlderLayouts re-encodes real files of each older layout from
// their decoded content and checks that the checksum (and, for files that
// kubelet wrote compactly, every byte) comes out the same.
func TestEncodeOlderLayouts(t *testing.T) {
	tests := []struct {
		reason    string
		file      string
		format    string
		encode    func(c *Content) ([]byte, error)
		sameBytes bool
	}{
		{reason: "B02: V1 as kubelet 1.17 wrote it", file: "../../testdata/cases/B02-cpu-v1-legacy-checksum-typename/cpu_manager_state",
			format: FormatV1, sameBytes: true,
			encode: func(c *Content) ([]byte, error) { return EncodeV1(c.PolicyName, c.DefaultCPUSet, c.ContainerEntries) }},
		{reason: "#84703 vector, V1 without entries", file: "../../testdata/cases/B02-cpu-v1-legacy-checksum-typename/checksum-vectors/v1-static-0-3.json",
			format: FormatV1, encode: func(c *Content) ([]byte, error) { return EncodeV1(c.PolicyName, c.DefaultCPUSet, c.ContainerEntries) }},
		{reason: "B04: V2 as 1.18-1.35 wrote it", file: "../../testdata/cases/B04-cpu-format-version-skew/cpu_manager_state.v2-k118-k135",
			format: FormatV2, sameBytes: true, encode: func(c *Content) ([]byte, error) { return EncodeV2(&c.State) }},
		{reason: "kubelet test vector, V2 with entries", file: "../../testdata/kubelet-vectors/cpumanager/v2-valid-entries.json",
			format: FormatV2, encode: func(c *Content) ([]byte, error) { return EncodeV2(&c.State) }},
		{reason: "kubelet test vector, V3 with pod entries as 1.36 wrote it", file: "../../testdata/kubelet-vectors/cpumanager/v3-legacy-podentries-static.json",
			format: FormatV3, encode: func(c *Content) ([]byte, error) { return EncodeV3(&c.State) }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			orig, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			r0 := Examine(orig)
			c := r0.Content.(*Content)
			out, err := tt.encode(c)
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
			if tt.sameBytes && !bytes.Equal(out, orig) {
				t.Errorf("bytes differ:\n got %s\nwant %s", out, orig)
			}
		})
	}
}

func TestEncodeOlderRefusesLoss(t *testing.T) {
	tests := []struct {
		reason string
		encode func() ([]byte, error)
	}{
		{reason: "V2 has no pod-level entries", encode: func() ([]byte, error) {
			return EncodeV2(&State{PolicyName: "static", PodEntries: map[string]string{"p": "1"}})
		}},
		{reason: "V3 has no baselines", encode: func() ([]byte, error) {
			return EncodeV3(&State{PolicyName: "static", Baselines: map[string]map[string]string{"p": {"c": "1"}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			if _, err := tt.encode(); !errors.Is(err, ErrNotRepresentable) {
				t.Errorf("err = %v, want ErrNotRepresentable", err)
			}
		})
	}
	if _, err := EncodeV1("static", "x-y", nil); !errors.Is(err, ErrCPUSet) {
		t.Errorf("bad cpuset: err = %v, want ErrCPUSet", err)
	}
}
