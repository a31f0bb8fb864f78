package checkpointmanager_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager"
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// dataStringCheckpoint stores its payload as an opaque JSON string and
// checksums that string as stored (kubelet's allocation scheme:
// checksum.New(string)). The checksum never depends on the reader's Go
// types, so a reader with a newer payload struct verifies an older file.
type dataStringCheckpoint struct {
	Data     string            `json:"data"`
	Checksum checksum.Checksum `json:"checksum"`
}

var _ checkpointmanager.Checkpoint = (*dataStringCheckpoint)(nil)

// newDataString marshals payload into a checkpoint.
func newDataString(payload any) (*dataStringCheckpoint, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return &dataStringCheckpoint{Data: string(data)}, nil
}

func (c *dataStringCheckpoint) MarshalCheckpoint() ([]byte, error) {
	c.Checksum = checksum.New(c.Data)
	return json.Marshal(*c)
}

func (c *dataStringCheckpoint) UnmarshalCheckpoint(blob []byte) error {
	return json.Unmarshal(blob, c)
}

func (c *dataStringCheckpoint) VerifyChecksum() error { return c.Checksum.Verify(c.Data) }

// payload decodes the verified data into v, tolerating unknown and missing
// fields.
func (c *dataStringCheckpoint) payload(v any) error { return json.Unmarshal([]byte(c.Data), v) }

// The payload as an older driver (v1) and a newer one (v2) declare it: v2
// adds fields and changes omitempty, which changes its re-marshalled JSON.
type (
	claimsV1 struct {
		PreparedClaims map[string]claimV1 `json:"preparedClaims"`
	}
	claimV1 struct {
		Status          string     `json:"status"`
		PreparedDevices []deviceV1 `json:"preparedDevices"`
	}
	deviceV1 struct {
		Device struct {
			DeviceName string `json:"deviceName"`
		} `json:"device"`
		ConfigState struct {
			MPSControlDaemonID string `json:"mpsControlDaemonID"`
		} `json:"configState"`
	}
	claimsV2 struct {
		PreparedClaims map[string]claimV2 `json:"preparedClaims"`
		Generation     int64              `json:"generation,omitempty"`
	}
	claimV2 struct {
		Status          string     `json:"status"`
		PreparedDevices []deviceV2 `json:"preparedDevices"`
		NodeName        string     `json:"nodeName,omitempty"`
	}
	deviceV2 struct {
		Device struct {
			DeviceName string   `json:"deviceName"`
			PoolName   string   `json:"poolName,omitempty"`
			Requests   []string `json:"requests,omitempty"`
		} `json:"device"`
		ConfigState struct {
			MPSControlDaemonID string `json:"mpsControlDaemonID,omitempty"`
			TimeSlicing        *int   `json:"timeSlicing,omitempty"`
		} `json:"configState"`
	}
)

// TestB19DataStringVerifies: the case's checkpoint.data-string.json verifies
// through the manager, and its payload decodes with either struct version.
func TestB19DataStringVerifies(t *testing.T) {
	caseDir := filepath.Join(testdata, "cases/B19-driver-remarshal-checksum")
	m, dir := newManager(t)
	copyVector(t, filepath.Join(caseDir, "checkpoint.data-string.json"), dir, "checkpoint.json")
	var cp dataStringCheckpoint
	if err := m.GetCheckpoint("checkpoint.json", &cp); err != nil {
		t.Fatalf("GetCheckpoint(checkpoint.data-string.json): %v", err)
	}
	onDisk, err := os.ReadFile(filepath.Join(caseDir, "payload.on-disk.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Data != string(bytes.TrimSpace(onDisk)) {
		t.Errorf("data string is not the on-disk payload:\n got %s\nwant %s", cp.Data, onDisk)
	}
	var v1 claimsV1
	var v2 claimsV2
	for _, v := range []any{&v1, &v2} {
		if err := cp.payload(v); err != nil {
			t.Errorf("decode payload into %T: %v", v, err)
		}
	}
	const claim = "cccccccc-0000-4000-8000-00000000000c"
	if v2.PreparedClaims[claim].PreparedDevices[0].Device.DeviceName != "gpu-0" || v1.PreparedClaims[claim].Status != "PrepareCompleted" {
		t.Errorf("payload decoded wrongly: %+v / %+v", v1, v2)
	}
	// The re-marshalled form differs: a checksum over a re-serialisation
	// (what the bug report's driver did) would reject the unchanged file.
	again, _ := json.Marshal(v2)
	remarshaled, err := os.ReadFile(filepath.Join(caseDir, "payload.re-marshaled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, bytes.TrimSpace(remarshaled)) {
		t.Errorf("v2 re-marshals to %s, the case says %s", again, remarshaled)
	}
	if checksum.New(string(again)) == cp.Checksum {
		t.Error("re-marshalled payload unexpectedly has the stored checksum")
	}
	// A changed data string is caught.
	tampered := cp
	tampered.Data = string(again)
	if err := tampered.VerifyChecksum(); !errors.Is(err, cperrors.CorruptCheckpointError{}) {
		t.Errorf("tampered data verifies: %v", err)
	}
}

// TestB19WriteV1ReadV2: written by the old struct, read by the new one,
// through the manager; and the reverse.
func TestB19WriteV1ReadV2(t *testing.T) {
	m, _ := newManager(t)
	old := claimsV1{PreparedClaims: map[string]claimV1{"uid-1": {Status: "PrepareCompleted", PreparedDevices: []deviceV1{{}}}}}
	old.PreparedClaims["uid-1"].PreparedDevices[0].Device.DeviceName = "gpu-0"
	cp, err := newDataString(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateCheckpoint("checkpoint.json", cp); err != nil {
		t.Fatal(err)
	}
	var read dataStringCheckpoint
	if err := m.GetCheckpoint("checkpoint.json", &read); err != nil {
		t.Fatalf("the newer reader rejects the older file: %v", err)
	}
	var v2 claimsV2
	if err := read.payload(&v2); err != nil {
		t.Fatal(err)
	}
	if got := v2.PreparedClaims["uid-1"].PreparedDevices[0].Device.DeviceName; got != "gpu-0" {
		t.Errorf("device = %q, want gpu-0", got)
	}
	// The newer driver writes; the older one (a rollback) still reads it.
	v2.Generation = 2
	cp2, err := newDataString(v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateCheckpoint("checkpoint.json", cp2); err != nil {
		t.Fatal(err)
	}
	var back dataStringCheckpoint
	if err := m.GetCheckpoint("checkpoint.json", &back); err != nil {
		t.Fatalf("the older reader rejects the newer file: %v", err)
	}
	var v1 claimsV1
	if err := back.payload(&v1); err != nil || v1.PreparedClaims["uid-1"].Status != "PrepareCompleted" {
		t.Errorf("older reader decoded %+v, %v", v1, err)
	}
}
