// Package state declares the DRA checkpoint layout that kubernetes master
// had for a few weeks in July 2024 (between structured parameters and the
// crc32 refactor of kubernetes#126303): still the fnv struct hash with
// version "v1", but claims hold DriverState instead of resource handles. No
// release wrote it; kubelet's own tests did.
package state

import (
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/sets"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/types"
)

// DRAManagerCheckpoint is the whole file, hashed with Checksum zeroed.
type DRAManagerCheckpoint struct {
	Version  string             `json:"version"`
	Entries  ClaimInfoStateList `json:"entries,omitempty"`
	Checksum checksum.Checksum  `json:"checksum"`
}

// ClaimInfoStateList lists the prepared claims.
type ClaimInfoStateList []ClaimInfoState

// ClaimInfoState is one prepared claim with its devices per driver.
type ClaimInfoState struct {
	ClaimUID    types.UID
	ClaimName   string
	Namespace   string
	PodUIDs     sets.Set[string]
	DriverState map[string]DriverState
}

// DriverState lists the devices one driver prepared.
type DriverState struct {
	Devices []Device
}

// Device is one allocated device.
type Device struct {
	PoolName     string
	DeviceName   string
	RequestNames []string
	CDIDeviceIDs []string
}

// New returns the checkpoint files are decoded into.
func New() *DRAManagerCheckpoint {
	return &DRAManagerCheckpoint{Version: "v1", Entries: ClaimInfoStateList{}}
}

// Text returns the text kubelet hashed: the dump of the checkpoint pointer
// with Checksum set to 0.
func (dc *DRAManagerCheckpoint) Text() string {
	c := *dc
	c.Checksum = 0
	return checksum.Text(&c)
}
