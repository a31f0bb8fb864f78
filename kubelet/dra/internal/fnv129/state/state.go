// Package state declares kubelet's pre-1.31 DRA checkpoint types with the
// package name ("state") and type names kubelet hashes, in the layout of
// kubelet 1.29: "(*state.DRAManagerCheckpoint){Version:(string)v1
// Entries:(state.ClaimInfoStateList)[...] Checksum:(checksum.Checksum)0}".
package state

import (
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/dra/internal/fnv129/v1alpha2"
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

// ClaimInfoState is one prepared claim; its fields have no JSON tags.
type ClaimInfoState struct {
	DriverName      string
	ClassName       string
	ClaimUID        types.UID
	ClaimName       string
	Namespace       string
	PodUIDs         sets.Set[string]
	ResourceHandles []v1alpha2.ResourceHandle
	CDIDevices      map[string][]string
}

// New returns the checkpoint kubelet decodes files into: version "v1" and an
// empty, non-nil entry list (which the checksum text tells from nil).
func New() *DRAManagerCheckpoint {
	return &DRAManagerCheckpoint{Version: "v1", Entries: ClaimInfoStateList{}}
}

// Text returns the text kubelet hashes: the dump of the checkpoint pointer
// with Checksum set to 0.
func (dc *DRAManagerCheckpoint) Text() string {
	c := *dc
	c.Checksum = 0
	return checksum.Text(&c)
}
