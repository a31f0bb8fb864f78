// Package v1 declares kubelet's checkpointmanager example format
// (pkg/kubelet/checkpointmanager/testing/example_checkpoint_formats/v1) with
// its package name ("v1") and type names, unexported protocol included,
// because the checksum hashes "(v1.Data){PortMappings:([]*v1.PortMapping)
// [<*>{Protocol:(*v1.protocol)tcp ...}] HostNetwork:(bool)true}".
package v1

import "github.com/ckptkit/ckpt/checkpointmanager/checksum"

// protocol is unexported as in kubelet; its name is in the checksum text.
type protocol string

// PortMapping is one port mapping; no JSON tags, so the Go names are the
// keys.
type PortMapping struct {
	Protocol      *protocol
	ContainerPort *int32
	HostPort      *int32
}

// SetProtocol sets the protocol (nil for "").
func (p *PortMapping) SetProtocol(s string) {
	if s == "" {
		p.Protocol = nil
		return
	}
	v := protocol(s)
	p.Protocol = &v
}

// ProtocolName returns the protocol and whether it is set.
func (p *PortMapping) ProtocolName() (string, bool) {
	if p.Protocol == nil {
		return "", false
	}
	return string(*p.Protocol), true
}

// Data is the checksummed part.
type Data struct {
	PortMappings []*PortMapping `json:"port_mappings,omitempty"`
	HostNetwork  bool           `json:"host_network,omitempty"`
}

// CheckpointData is the whole file; no JSON tags.
type CheckpointData struct {
	Version  string
	Name     string
	Data     *Data
	Checksum checksum.Checksum
}

// New returns the checkpoint files are decoded into, as kubelet's tests
// build it: version "v1" and an empty, non-nil Data.
func New() *CheckpointData {
	return &CheckpointData{Version: "v1", Data: &Data{}}
}

// Text returns the text hashed, the dump of the Data value; ok is false
// when Data is nil (kubelet would dereference nil).
func (cp *CheckpointData) Text() (string, bool) {
	if cp.Data == nil {
		return "", false
	}
	return checksum.Text(*cp.Data), true
}
