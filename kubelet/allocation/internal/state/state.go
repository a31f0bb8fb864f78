// Package state declares the pod status manager checkpoint of kubelet
// 1.27-1.31 (pkg/kubelet/status/state) with kubelet's package and type
// names. Kubelet hashed the whole struct, resource.Quantity internals
// included: "(*state.PodResourceAllocationCheckpoint){AllocationEntries:
// (map[string]map[string]v1.ResourceList)map[...] ResizeStatusEntries:
// (map[string]v1.PodResizeStatus)map[] Checksum:(checksum.Checksum)0}".
package state

import (
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	v1 "github.com/ckptkit/ckpt/kubelet/internal/k8s/v1"
)

// PodResourceAllocationCheckpoint is the whole file.
type PodResourceAllocationCheckpoint struct {
	AllocationEntries   map[string]map[string]v1.ResourceList `json:"allocationEntries,omitempty"`
	ResizeStatusEntries map[string]v1.PodResizeStatus         `json:"resizeStatusEntries,omitempty"`
	Checksum            checksum.Checksum                     `json:"checksum"`
}

// New returns the checkpoint kubelet decodes files into: both maps made, so
// an absent key hashes as "map[]" and an explicit null as "<nil>".
func New() *PodResourceAllocationCheckpoint {
	return &PodResourceAllocationCheckpoint{
		AllocationEntries:   map[string]map[string]v1.ResourceList{},
		ResizeStatusEntries: map[string]v1.PodResizeStatus{},
	}
}

// Text returns the text kubelet's reader hashes: the dump of the
// checkpoint pointer with Checksum set to 0, after JSON decoding.
func (c *PodResourceAllocationCheckpoint) Text() string {
	cp := *c
	cp.Checksum = 0
	return checksum.Text(&cp)
}
