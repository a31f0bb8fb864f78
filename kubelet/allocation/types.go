package allocation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/resource"
)

// Quantity is a resource quantity kept exactly as the file spells it
// ("500m", "128Mi"): ckpt never re-canonicalizes what kubelet wrote, so
// decoding and encoding a file gives back its bytes. Decoding accepts what
// apimachinery accepts (a JSON string or a bare number; null reads as "0")
// and rejects what it rejects, because kubelet fails to load a file with an
// unparsable quantity.
type Quantity string

// UnmarshalJSON keeps the text between the quotes after checking that
// apimachinery would parse it.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*q = "0"
		return nil
	}
	if l := len(b); l >= 2 && b[0] == '"' && b[l-1] == '"' {
		b = b[1 : l-1]
	}
	s := string(b)
	if _, err := resource.ParseQuantity(strings.TrimSpace(s)); err != nil {
		return fmt.Errorf("quantity %q: %w", s, err)
	}
	*q = Quantity(s)
	return nil
}

// MarshalJSON writes the quantity as the JSON string it was read from.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return []byte(`"` + string(q) + `"`), nil
}

// ResourceList maps a resource name ("cpu", "memory") to a quantity.
type ResourceList map[string]Quantity

// ResourceClaim names a DRA claim (and request) a container uses.
type ResourceClaim struct {
	Name    string `json:"name"`
	Request string `json:"request,omitempty"`
}

// ResourceRequirements is core/v1's ResourceRequirements with kubelet's
// JSON tags and field order.
type ResourceRequirements struct {
	Limits   ResourceList    `json:"limits,omitempty"`
	Requests ResourceList    `json:"requests,omitempty"`
	Claims   []ResourceClaim `json:"claims,omitempty"`
}

// PodResourceInfo is one pod's entry in a 1.33+ checkpoint. Its fields have
// no JSON tags, as in kubelet; nil ones are written as null.
type PodResourceInfo struct {
	// ContainerResources maps a container name to its resources.
	ContainerResources map[string]ResourceRequirements
	// PodLevelResources (kubelet 1.35+) are the pod-level resources.
	PodLevelResources *ResourceRequirements
	// EmptyDirVolumeLimits (kubelet 1.37) maps an emptyDir volume to its
	// size limit.
	EmptyDirVolumeLimits map[string]*Quantity
}

// PodResourceCheckpointInfo is the content of the data string of
// allocated_pods_state and actuated_pods_state (kubelet 1.33+).
type PodResourceCheckpointInfo struct {
	// Entries maps a pod UID to its resources.
	Entries map[string]PodResourceInfo `json:"entries,omitempty"`
}

// PodResourceAllocationInfo is the content of the data string of the 1.32
// pod_status_manager_state.
type PodResourceAllocationInfo struct {
	// AllocationEntries maps pod UID and container name to resources.
	AllocationEntries map[string]map[string]ResourceRequirements `json:"allocationEntries,omitempty"`
}

// dataFile is the data-string envelope shared by 1.32 and 1.33+.
type dataFile struct {
	Data     string            `json:"data"`
	Checksum checksum.Checksum `json:"checksum"`
}

// Decode decodes and verifies an allocated_pods_state or
// actuated_pods_state file (kubelet 1.33+) as kubelet reads it: the checksum
// over the data string first, then the data JSON. It returns a
// *check.DecodeError (check.ErrInvalid) when the file or its data string
// cannot be decoded, and the decoded entries (when the data decodes) with an
// error wrapping check.ErrCorrupt when the checksum does not match.
//
// A canonical file (what kubelet writes) takes a reflection-free fast path
// (see fast.go); anything else, and every error, comes from the
// encoding/json path.
func Decode(data []byte) (*PodResourceCheckpointInfo, error) {
	if info, ok := decodeFast(data); ok {
		return info, nil
	}
	return decodeSlow(data)
}

// decodeSlow is Decode with encoding/json: the reference the fast path
// must agree with.
func decodeSlow(data []byte) (*PodResourceCheckpointInfo, error) {
	var f dataFile
	if err := check.DecodeJSON(what, data, &f); err != nil {
		return nil, err
	}
	if err := requireMember(data, "data"); err != nil {
		return nil, err
	}
	var info PodResourceCheckpointInfo
	derr := check.DecodeJSON(whatData, []byte(f.Data), &info)
	if got := checksum.OfString(f.Data); got != f.Checksum {
		if derr != nil {
			return nil, corruptErr(FormatData133, uint64(f.Checksum), uint64(got), ruleData)
		}
		return &info, corruptErr(FormatData133, uint64(f.Checksum), uint64(got), ruleData)
	}
	if derr != nil {
		return nil, derr
	}
	return &info, nil
}

// Encode returns the bytes kubelet v1.37.2 writes for info:
// {"data":"<json of info>","checksum":N} with N kubelet's checksum of the
// data string.
func Encode(info PodResourceCheckpointInfo) ([]byte, error) {
	if out, ok := encodeFast(&info); ok {
		return out, nil
	}
	return encodeSlow(info)
}

// encodeSlow is Encode with encoding/json: the reference the fast path
// must agree with, and the path that reports a quantity Marshal rejects.
func encodeSlow(info PodResourceCheckpointInfo) ([]byte, error) {
	inner, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode %s data: %w", what, err)
	}
	f := dataFile{Data: string(inner)}
	f.Checksum = checksum.OfString(f.Data)
	out, err := json.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return out, nil
}

// requireMember reports a document without the named member (any case) as
// invalid.
func requireMember(data []byte, name string) error {
	if _, ok := check.Find(check.ScanObject(data), name); !ok {
		return check.ContentError(what, "required member %q is missing", name)
	}
	return nil
}
