// Package state declares the oldest pre-1.31 DRA checkpoint layout, without
// ResourceHandles. Kubelet 1.28-1.30 verify such files with a fallback that
// dumps types named DRAManagerCheckpointWithoutResourceHandles and
// ClaimInfoStateListWithoutResourceHandles and renames them in the text to
// DRAManagerCheckpoint and ClaimInfoStateList; declaring the renamed names
// here gives the same text by construction.
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

// ClaimInfoState is one prepared claim, without resource handles.
type ClaimInfoState struct {
	DriverName string
	ClassName  string
	ClaimUID   types.UID
	ClaimName  string
	Namespace  string
	PodUIDs    sets.Set[string]
	CDIDevices map[string][]string
}

// New returns the checkpoint files are decoded into.
func New() *DRAManagerCheckpoint {
	return &DRAManagerCheckpoint{Version: "v1", Entries: ClaimInfoStateList{}}
}

// Text returns the text kubelet's fallback hashes. The fallback rebuilds the
// checkpoint with version "v1" whatever the file says, and appends the
// entries to an empty list (so a null list hashes as "[]").
func (dc *DRAManagerCheckpoint) Text() string {
	c := DRAManagerCheckpoint{Version: "v1", Entries: append(ClaimInfoStateList{}, dc.Entries...)}
	return checksum.Text(&c)
}
