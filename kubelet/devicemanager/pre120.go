package devicemanager

import (
	"encoding/json"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager/internal/checkpoint"
)

// PodDevicesEntryPre120 is one allocation in the pre-1.20 layout: DeviceIDs
// is a flat list without NUMA nodes.
type PodDevicesEntryPre120 = checkpoint.PodDevicesEntryV1

// CheckpointPre120 is the content of a pre-1.20 device manager checkpoint
// (kubelet <= 1.19).
type CheckpointPre120 struct {
	// PodDeviceEntries lists every container's allocations.
	PodDeviceEntries []PodDevicesEntryPre120
	// RegisteredDevices maps a resource name to its registered device IDs.
	RegisteredDevices map[string][]string
}

// DecodePre120 decodes and verifies a pre-1.20 checkpoint as kubelet
// 1.20-1.30 read it (its V1 fallback). It returns a *check.DecodeError
// (check.ErrInvalid) when data is not in that layout, and the decoded
// checkpoint with an error wrapping check.ErrCorrupt when the checksum does
// not match.
func DecodePre120(data []byte) (*CheckpointPre120, error) {
	d := checkpoint.NewEmptyV1()
	if err := check.DecodeJSON(what, data, d); err != nil {
		return nil, err
	}
	if err := requireData(data); err != nil {
		return nil, err
	}
	cp := &CheckpointPre120{PodDeviceEntries: d.Entries(), RegisteredDevices: d.RegisteredDevices()}
	if got := d.Computed(); got != d.Checksum {
		return cp, corruptErr(FormatPre120, uint64(d.Checksum), uint64(got), rulePre20)
	}
	return cp, nil
}

// EncodePre120 returns a pre-1.20 checkpoint as kubelet <= 1.19 wrote it:
// compact JSON with Go field names, the checksum over the dump of its data
// under the names those kubelets had (checkpointData, PodDevicesEntry).
func EncodePre120(cp CheckpointPre120) ([]byte, error) {
	entries := cp.PodDeviceEntries
	if entries == nil {
		entries = []PodDevicesEntryPre120{}
	}
	devices := cp.RegisteredDevices
	if devices == nil {
		devices = map[string][]string{}
	}
	d := checkpoint.NewEmptyV1()
	probe, err := json.Marshal(struct {
		Data struct {
			PodDeviceEntries  []PodDevicesEntryPre120
			RegisteredDevices map[string][]string
		}
		Checksum checksum.Checksum
	}{Data: struct {
		PodDeviceEntries  []PodDevicesEntryPre120
		RegisteredDevices map[string][]string
	}{entries, devices}})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	// Hash what a reader decodes from these bytes (nil versus empty as it
	// will see them), then write the same bytes with the checksum set.
	if err := json.Unmarshal(probe, d); err != nil {
		return nil, fmt.Errorf("re-read %s: %w", what, err)
	}
	d.Checksum = d.Computed()
	out, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return out, nil
}
