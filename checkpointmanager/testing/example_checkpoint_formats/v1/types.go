// Package v1 is kubelet's example checkpoint format
// (pkg/kubelet/checkpointmanager/testing/example_checkpoint_formats/v1),
// with the same package name, type names, fields and JSON tags, so that its
// checksums are kubelet's: the checksum covers the Data value, hashed as
// "(v1.Data){PortMappings:([]*v1.PortMapping)[...] HostNetwork:(bool)...}".
// The package name is part of that text: the same struct declared in any
// other package gives a different checksum.
package v1

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// ErrNoData is wrapped by the errors of a CheckpointData whose Data is nil
// (kubelet's would panic).
var ErrNoData = errors.New("checkpoint has no Data")

// protocol is the protocol of a port mapping; its name appears in the
// checksum text as *v1.protocol.
type protocol string

// PortMapping is a port mapping. The fields have no JSON tags, so the file
// carries the Go names.
type PortMapping struct {
	// Protocol is the protocol, e.g. "TCP".
	Protocol *protocol
	// ContainerPort is the port in the container.
	ContainerPort *int32
	// HostPort is the port on the host.
	HostPort *int32
}

// Data is the checksummed payload.
type Data struct {
	// PortMappings are the port mappings.
	PortMappings []*PortMapping `json:"port_mappings,omitempty"`
	// HostNetwork tells whether the pod uses the host network.
	HostNetwork bool `json:"host_network,omitempty"`
}

// CheckpointData is the checkpoint: a version, a name, the payload and the
// checksum of the payload. No JSON tags, as in kubelet.
type CheckpointData struct {
	// Version is the format version, "v1".
	Version string
	// Name names the checkpoint.
	Name string
	// Data is the payload the checksum covers.
	Data *Data
	// Checksum is checksum.New(*Data).
	Checksum checksum.Checksum
}

// MarshalCheckpoint sets the checksum of Data and returns the JSON of cp.
func (cp *CheckpointData) MarshalCheckpoint() ([]byte, error) {
	if cp.Data == nil {
		return nil, fmt.Errorf("marshal %q: %w", cp.Name, ErrNoData)
	}
	cp.Checksum = checksum.New(*cp.Data)
	return json.Marshal(*cp)
}

// UnmarshalCheckpoint fills cp from blob.
func (cp *CheckpointData) UnmarshalCheckpoint(blob []byte) error {
	return json.Unmarshal(blob, cp)
}

// VerifyChecksum checks Checksum against Data. A nil Data (for example
// "Data":null in the file) cannot match any checksum: the error wraps both
// ErrNoData and a *errors.CorruptCheckpointError.
func (cp *CheckpointData) VerifyChecksum() error {
	if cp.Data == nil {
		return fmt.Errorf("%w: %w", ErrNoData, &cperrors.CorruptCheckpointError{ExpectedCS: uint64(cp.Checksum)})
	}
	return cp.Checksum.Verify(*cp.Data)
}

// NewPortMapping returns a PortMapping of protocol proto ("" for none) from
// containerPort to hostPort.
func NewPortMapping(proto string, containerPort, hostPort int32) *PortMapping {
	pm := &PortMapping{ContainerPort: &containerPort, HostPort: &hostPort}
	if proto != "" {
		p := protocol(proto)
		pm.Protocol = &p
	}
	return pm
}
