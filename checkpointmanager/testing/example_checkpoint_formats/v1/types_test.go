package v1_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	v1 "github.com/ckptkit/ckpt/checkpointmanager/testing/example_checkpoint_formats/v1"
)

const vectors = "../../../../testdata/kubelet-vectors"

// manifestEntry is the part of testdata/kubelet-vectors/manifest.json used here.
type manifestEntry struct {
	File        string `json:"file"`
	Consumer    string `json:"consumer"`
	Expect      string `json:"expect"`
	KindVersion string `json:"kind_version"`
	HashInput   string `json:"hash_input"`
}

// TestKubeletVectors checks every vector of the "checkpointmanager" consumer:
// the verdict, the exact hashed text (the proof the checksum is kubelet's)
// and that re-encoding gives the file's bytes.
func TestKubeletVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(vectors, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []manifestEntry
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range manifest {
		if e.Consumer != "checkpointmanager" {
			continue
		}
		seen++
		if e.KindVersion != "checkpointmanager/testing example_checkpoint_formats/v1" {
			t.Errorf("%s: kind_version %q has no reader here", e.File, e.KindVersion)
			continue
		}
		data, err := os.ReadFile(filepath.Join(vectors, e.File))
		if err != nil {
			t.Fatal(err)
		}
		var cp v1.CheckpointData
		err = cp.UnmarshalCheckpoint(data)
		if err == nil {
			err = cp.VerifyChecksum()
		}
		switch e.Expect {
		case "valid":
			if err != nil {
				t.Errorf("%s: expected valid, got %v", e.File, err)
			}
		case "corrupt":
			if !errors.Is(err, cperrors.CorruptCheckpointError{}) {
				t.Errorf("%s: expected corrupt, got %v", e.File, err)
			}
		default:
			if err == nil || errors.Is(err, cperrors.CorruptCheckpointError{}) {
				t.Errorf("%s: expected a decode error, got %v", e.File, err)
			}
		}
		if cp.Data != nil && e.HashInput != "" {
			if got := checksum.Text(*cp.Data); got != e.HashInput {
				t.Errorf("%s: hashed text\n got %s\nwant %s", e.File, got, e.HashInput)
			}
		}
		if e.Expect == "valid" {
			out, err := cp.MarshalCheckpoint()
			if err != nil || !bytes.Equal(out, data) {
				t.Errorf("%s: re-encoding differs:\n got %s (%v)\nwant %s", e.File, out, err, data)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no checkpointmanager vectors in the manifest")
	}
}

func TestCheckpointData(t *testing.T) {
	tests := []struct {
		reason string
		blob   string
		want   error
	}{
		{"kubelet's vector", `{"Version":"v1","Name":"check1","Data":{"port_mappings":[{"Protocol":null,"ContainerPort":80,"HostPort":80}],"host_network":true},"Checksum":2813553683}`, nil},
		{"one bit off in the checksum", `{"Version":"v1","Name":"check1","Data":{"port_mappings":[{"Protocol":null,"ContainerPort":80,"HostPort":80}],"host_network":true},"Checksum":2813553682}`, cperrors.ErrCorruptCheckpoint},
		{"name and version are not covered by the checksum", `{"Version":"v9","Name":"other","Data":{"port_mappings":[{"Protocol":null,"ContainerPort":80,"HostPort":80}],"host_network":true},"Checksum":2813553683}`, nil},
		{"null Data cannot verify (kubelet panics)", `{"Version":"v1","Data":null,"Checksum":1}`, v1.ErrNoData},
		{"missing Data cannot verify either", `{"Version":"v1"}`, cperrors.ErrCorruptCheckpoint},
	}
	for _, tt := range tests {
		var cp v1.CheckpointData
		if err := cp.UnmarshalCheckpoint([]byte(tt.blob)); err != nil {
			t.Fatalf("%s: %v", tt.reason, err)
		}
		err := cp.VerifyChecksum()
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: VerifyChecksum = %v, want %v", tt.reason, err, tt.want)
		}
	}
	if _, err := (&v1.CheckpointData{Name: "x"}).MarshalCheckpoint(); !errors.Is(err, v1.ErrNoData) {
		t.Errorf("MarshalCheckpoint without Data = %v, want ErrNoData", err)
	}
}

func TestNewPortMapping(t *testing.T) {
	cp := v1.CheckpointData{Version: "v1", Name: "p", Data: &v1.Data{PortMappings: []*v1.PortMapping{v1.NewPortMapping("TCP", 80, 8080), v1.NewPortMapping("", 1, 2)}}}
	blob, err := cp.MarshalCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	const want = `"port_mappings":[{"Protocol":"TCP","ContainerPort":80,"HostPort":8080},{"Protocol":null,"ContainerPort":1,"HostPort":2}]`
	if !bytes.Contains(blob, []byte(want)) {
		t.Errorf("marshalled %s, want it to contain %s", blob, want)
	}
	var back v1.CheckpointData
	if err := back.UnmarshalCheckpoint(blob); err != nil || back.VerifyChecksum() != nil {
		t.Errorf("round trip does not verify: %v / %v", err, back.VerifyChecksum())
	}
}

// FuzzCheckpointData: no input makes decoding or verification panic, and
// whatever verifies re-verifies after a marshal round trip.
func FuzzCheckpointData(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"v1","Name":"check1","Data":{"port_mappings":[{"Protocol":null,"ContainerPort":80,"HostPort":80}],"host_network":true},"Checksum":2813553683}`,
		`{"Data":null}`, `{"Data":{"port_mappings":[null]},"Checksum":0}`, ``, `null`, `{"Data":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		var cp v1.CheckpointData
		if cp.UnmarshalCheckpoint(blob) != nil || cp.VerifyChecksum() != nil {
			return
		}
		out, err := cp.MarshalCheckpoint()
		if err != nil {
			t.Fatalf("marshal of a verified checkpoint: %v", err)
		}
		var back v1.CheckpointData
		if err := back.UnmarshalCheckpoint(out); err != nil || back.VerifyChecksum() != nil {
			t.Fatalf("round trip of %s does not verify: %v", out, err)
		}
	})
}
