package devicemanager

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

func TestPre120RoundTrip(t *testing.T) {
	for _, f := range []string{
		"../../testdata/cases/B12-device-pre-1.20-format-silent-loss/kubelet_internal_checkpoint",
		"../../testdata/kubelet-vectors/devicemanager/v1-pre-1.20-no-numa.json",
	} {
		t.Run(f, func(t *testing.T) {
			orig, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := DecodePre120(orig)
			if err != nil {
				t.Fatal(err)
			}
			out, err := EncodePre120(*cp)
			if err != nil {
				t.Fatal(err)
			}
			r := Examine(out)
			if r.Verdict != check.Valid || r.Format != FormatPre120 {
				t.Fatalf("re-encoded: %s %s %v", r.Verdict, r.Format, r.Err)
			}
			if r0 := Examine(orig); r0.Checksums[0].Stored != r.Checksums[0].Stored {
				t.Errorf("checksum %d, original %d", r.Checksums[0].Stored, r0.Checksums[0].Stored)
			}
			if f[len(f)-5:] != ".json" && !bytes.Equal(out, orig) {
				t.Errorf("bytes differ:\n got %s\nwant %s", out, orig)
			}
		})
	}
	if _, err := DecodePre120([]byte(`{"Data":{"PodDeviceEntries":[],"RegisteredDevices":{}},"Checksum":1}`)); !errors.Is(err, check.ErrCorrupt) {
		t.Errorf("bad checksum: err = %v, want ErrCorrupt", err)
	}
	if _, err := DecodePre120([]byte(`{"Data":{"PodDeviceEntries":[{"DeviceIDs":{"0":["a"]}}]},"Checksum":1}`)); !errors.Is(err, check.ErrInvalid) {
		t.Errorf("v2 layout: err = %v, want ErrInvalid", err)
	}
}
