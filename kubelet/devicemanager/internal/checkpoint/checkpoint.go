// Package checkpoint declares the device manager's checkpoint types with the
// Go package name ("checkpoint") and type names that kubelet's
// pkg/kubelet/cm/devicemanager/checkpoint uses, because kubelet's checksum
// hashes a text dump that contains those names, e.g.
// "(checkpoint.checkpointData){PodDeviceEntries:([]checkpoint.PodDevicesEntry)[...] ...}".
// Declaring the same names makes the checksum text identical by
// construction; the exported helpers let the parent package reach the
// unexported checkpointData value.
package checkpoint

import (
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// DevicesPerNUMA maps a NUMA node to the device IDs allocated on it. JSON
// encodes the int64 keys as strings ("0", "1").
type DevicesPerNUMA map[int64][]string

// PodDevicesEntry is one container's allocation of one resource (kubelet
// 1.20+ layout). The fields have no JSON tags, as in kubelet: the Go names
// are the JSON keys. AllocResp is a serialized ContainerAllocateResponse,
// base64 in JSON.
type PodDevicesEntry struct {
	PodUID        string
	ContainerName string
	ResourceName  string
	DeviceIDs     DevicesPerNUMA
	AllocResp     []byte
}

// checkpointData is the hashed part of the V2 checkpoint. It stays
// unexported because kubelet's is: its name appears in the checksum text.
type checkpointData struct {
	PodDeviceEntries  []PodDevicesEntry
	RegisteredDevices map[string][]string
}

// Data is the V2 (kubelet 1.20+) checkpoint as stored:
// {"Data":{"PodDeviceEntries":[...],"RegisteredDevices":{...}},"Checksum":N}.
type Data struct {
	Data     checkpointData
	Checksum checksum.Checksum
}

// New returns a V2 checkpoint holding entries and devices, as kubelet's
// checkpoint.New does. Kubelet decodes files into New with an empty non-nil
// slice and map, which the checksum text distinguishes from nil.
func New(entries []PodDevicesEntry, devices map[string][]string) *Data {
	return &Data{Data: checkpointData{PodDeviceEntries: entries, RegisteredDevices: devices}}
}

// NewEmpty returns the checkpoint kubelet decodes files into.
func NewEmpty() *Data { return New([]PodDevicesEntry{}, map[string][]string{}) }

// Entries returns the allocations.
func (d *Data) Entries() []PodDevicesEntry { return d.Data.PodDeviceEntries }

// RegisteredDevices returns the registered devices per resource name.
func (d *Data) RegisteredDevices() map[string][]string { return d.Data.RegisteredDevices }

// Text returns the text kubelet hashes: the dump of the Data value.
func (d *Data) Text() string { return checksum.Text(d.Data) }

// Computed returns the checksum kubelet computes for d: checksum.New(cp.Data).
func (d *Data) Computed() checksum.Checksum { return checksum.New(d.Data) }

// PodDevicesEntryV1 is the pre-1.20 allocation entry: DeviceIDs is a flat
// list without NUMA nodes.
type PodDevicesEntryV1 struct {
	PodUID        string
	ContainerName string
	ResourceName  string
	DeviceIDs     []string
	AllocResp     []byte
}

// checkpointDataV1 is the hashed part of the pre-1.20 checkpoint.
type checkpointDataV1 struct {
	PodDeviceEntries  []PodDevicesEntryV1
	RegisteredDevices map[string][]string
}

// DataV1 is the pre-1.20 checkpoint as stored; its JSON keys are the same as
// V2's, only DeviceIDs is a list.
type DataV1 struct {
	Data     checkpointDataV1
	Checksum checksum.Checksum
}

// NewEmptyV1 returns the checkpoint kubelet 1.20-1.30 decodes a pre-1.20 file
// into.
func NewEmptyV1() *DataV1 {
	return &DataV1{Data: checkpointDataV1{PodDeviceEntries: []PodDevicesEntryV1{}, RegisteredDevices: map[string][]string{}}}
}

// Entries returns the allocations.
func (d *DataV1) Entries() []PodDevicesEntryV1 { return d.Data.PodDeviceEntries }

// RegisteredDevices returns the registered devices per resource name.
func (d *DataV1) RegisteredDevices() map[string][]string { return d.Data.RegisteredDevices }

// Text returns the text kubelet 1.20-1.30 hashes to verify a pre-1.20 file:
// the dump of the V1 value with the V1 type names replaced by the names the
// pre-1.20 writer had ("checkpointDataV1" once, "PodDevicesEntryV1" always).
func (d *DataV1) Text() string {
	text := checksum.Text(d.Data)
	text = strings.Replace(text, "checkpointDataV1", "checkpointData", 1)
	return strings.ReplaceAll(text, "PodDevicesEntryV1", "PodDevicesEntry")
}

// Computed returns the checksum of Text.
func (d *DataV1) Computed() checksum.Checksum { return checksum.Sum([]byte(d.Text())) }
