// Package dockershim declares the sandbox checkpoint of the dockershim that
// predates kubelet's checkpointmanager (kubelet <1.10). Its checksum hashed
// the whole PodSandboxCheckpoint value with CheckSum zeroed:
// "(dockershim.PodSandboxCheckpoint){Version:(string)v1 ... CheckSum:(uint64)0}".
package dockershim

import "github.com/ckptkit/ckpt/checkpointmanager/checksum"

// Protocol is a port mapping protocol.
type Protocol string

// PortMapping is one port mapping of a sandbox.
type PortMapping struct {
	Protocol      *Protocol `json:"protocol,omitempty"`
	ContainerPort *int32    `json:"container_port,omitempty"`
	HostPort      *int32    `json:"host_port,omitempty"`
}

// CheckpointData holds only the port mappings.
type CheckpointData struct {
	PortMappings []*PortMapping `json:"port_mappings,omitempty"`
}

// PodSandboxCheckpoint is the whole file; CheckSum is a plain uint64.
type PodSandboxCheckpoint struct {
	Version   string          `json:"version"`
	Name      string          `json:"name"`
	Namespace string          `json:"namespace"`
	Data      *CheckpointData `json:"data,omitempty"`
	CheckSum  uint64          `json:"checksum"`
}

// Text returns the text the old dockershim hashed: the dump of the value
// with CheckSum set to 0.
func (cp *PodSandboxCheckpoint) Text() string {
	c := *cp
	c.CheckSum = 0
	return checksum.Text(c)
}
