// Package dockershim declares the dockershim sandbox checkpoint types of
// kubelet 1.10-1.23 with kubelet's package ("dockershim") and type names,
// because the checksum hashes "(dockershim.CheckpointData){...}". This is
// the earlier layout, whose PortMapping has no HostIP yet.
package dockershim

import "github.com/ckptkit/ckpt/checkpointmanager/checksum"

// Protocol is a port mapping protocol ("tcp", "udp", "sctp").
type Protocol string

// PortMapping is one port mapping of a sandbox.
type PortMapping struct {
	Protocol      *Protocol `json:"protocol,omitempty"`
	ContainerPort *int32    `json:"container_port,omitempty"`
	HostPort      *int32    `json:"host_port,omitempty"`
}

// CheckpointData is the checksummed part of the checkpoint.
type CheckpointData struct {
	PortMappings []*PortMapping `json:"port_mappings,omitempty"`
	HostNetwork  bool           `json:"host_network,omitempty"`
}

// PodSandboxCheckpoint is the whole file.
type PodSandboxCheckpoint struct {
	Version   string            `json:"version"`
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Data      *CheckpointData   `json:"data,omitempty"`
	Checksum  checksum.Checksum `json:"checksum"`
}

// New returns the checkpoint kubelet decodes files into: version "v1" and
// an empty, non-nil Data.
func New() *PodSandboxCheckpoint {
	return &PodSandboxCheckpoint{Version: "v1", Data: &CheckpointData{}}
}

// Text returns the text kubelet hashes, the dump of the Data value; ok is
// false when Data is nil (kubelet would dereference nil and crash).
func (cp *PodSandboxCheckpoint) Text() (text string, ok bool) {
	if cp.Data == nil {
		return "", false
	}
	return checksum.Text(*cp.Data), true
}
