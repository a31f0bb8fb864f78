// Package devicemanager reads, verifies and writes kubelet's device manager
// checkpoint, /var/lib/kubelet/device-plugins/kubelet_internal_checkpoint
// (FORMATS.md §3.3), in both of its layouts:
//
//   - "v2" (written by kubelet 1.20 and later): DeviceIDs maps a NUMA node to
//     device IDs; the checksum is kubelet's FNV-32a over the dump of the Data
//     value, "(checkpoint.checkpointData){...}".
//   - "pre-1.20" (written by kubelet 1.19 and earlier): DeviceIDs is a flat
//     list; kubelet 1.20-1.30 verified it by dumping its V1 types with the V1
//     type names replaced by the old ones. Kubelet 1.31 and later cannot
//     decode it at all and silently start with empty device state.
//
// Examine tries both and reports the one that verifies. Decode and Encode
// handle the current layout, byte-exact with kubelet.
package devicemanager

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager/internal/checkpoint"
)

// FileName is the name kubelet gives the checkpoint, in the device plugin
// directory (/var/lib/kubelet/device-plugins, not derived from --root-dir).
const FileName = "kubelet_internal_checkpoint"

// The format names Examine reports in check.Result.Format.
const (
	// FormatV2 is the layout of kubelet 1.20 and later.
	FormatV2 = "v2"
	// FormatPre120 is the layout of kubelet 1.19 and earlier.
	FormatPre120 = "pre-1.20"
)

const what = "device manager checkpoint"

// The checksum rules, as reported in check.Checksum.Rule.
const (
	ruleV2    = "fnv32a(spew checkpoint.checkpointData) [kubelet 1.20+]"
	rulePre20 = "fnv32a(spew checkpoint.checkpointDataV1, V1 type names replaced) [kubelet <=1.19 writer, 1.20-1.30 reader]"
)

// PodDevicesEntry is one container's allocation of one resource, kubelet's
// checkpoint.PodDevicesEntry: DeviceIDs per NUMA node, and AllocResp, the
// device plugin's serialized ContainerAllocateResponse.
type PodDevicesEntry = checkpoint.PodDevicesEntry

// DevicesPerNUMA maps a NUMA node to the device IDs allocated on it.
type DevicesPerNUMA = checkpoint.DevicesPerNUMA

// Checkpoint is the content of a current (v2) device manager checkpoint.
type Checkpoint struct {
	// PodDeviceEntries lists every container's allocations. Kubelet writes
	// an empty list as [] and a nil one as null; Encode keeps the
	// difference, which the checksum covers.
	PodDeviceEntries []PodDevicesEntry
	// RegisteredDevices maps a resource name to its registered device IDs.
	RegisteredDevices map[string][]string
}

// Decode decodes and verifies a current (v2) device manager checkpoint, as
// kubelet 1.31+ reads it. It returns a *check.DecodeError (wrapping
// check.ErrInvalid) when data is not a v2 checkpoint (a pre-1.20 file is
// one: use Examine for it), and the decoded checkpoint together with an
// error wrapping check.ErrCorrupt when the checksum does not match.
func Decode(data []byte) (*Checkpoint, error) {
	if cp, ok := decodeFast(data); ok {
		return cp, nil
	}
	return decodeSlow(data)
}

// decodeSlow is Decode through encoding/json, for every file decodeFast
// declines (fast.go): the reference it is held to.
func decodeSlow(data []byte) (*Checkpoint, error) {
	d := checkpoint.NewEmpty()
	if err := check.DecodeJSON(what, data, d); err != nil {
		return nil, err
	}
	if err := requireData(data); err != nil {
		return nil, err
	}
	cp := &Checkpoint{PodDeviceEntries: d.Entries(), RegisteredDevices: d.RegisteredDevices()}
	if got := d.Computed(); got != d.Checksum {
		return cp, corruptErr(FormatV2, uint64(d.Checksum), uint64(got), ruleV2)
	}
	return cp, nil
}

// Encode returns the bytes kubelet v1.37.2 writes for cp: compact JSON, Go
// field names as keys, no trailing newline, with the checksum computed as
// kubelet's MarshalCheckpoint does.
//
// It writes the JSON by hand (encodeFast in fast.go), byte-identical with
// json.Marshal of kubelet's types, which cannot fail for them; the error
// is kept for the API.
func Encode(cp Checkpoint) ([]byte, error) {
	sum := checkpoint.New(cp.PodDeviceEntries, cp.RegisteredDevices).Computed()
	return encodeFast(&cp, uint64(sum)), nil
}

// Sniff reports whether data looks like a device manager checkpoint: a JSON
// object whose "Data" member (any case, as encoding/json matches keys) is
// an object with a "PodDeviceEntries" or "RegisteredDevices" member. That
// tells it apart from the DRA checkpoint (whose "Data" is a string) and the
// checkpointmanager example format (whose "Data" holds port mappings). A
// file cut short before those keys is recognised by the raw key
// "PodDeviceEntries". Sniff is cheap and never panics.
func Sniff(data []byte) bool {
	if m, ok := check.Find(check.ScanObject(data), "Data"); ok && m.First == '{' {
		inner := check.ScanObject(m.Raw)
		if _, ok := check.Find(inner, "PodDeviceEntries"); ok {
			return true
		}
		if _, ok := check.Find(inner, "RegisteredDevices"); ok {
			return true
		}
	}
	return containsFold(data, `"PodDeviceEntries"`)
}

// Examine decodes data as a device manager checkpoint, tries the v2 and the
// pre-1.20 layouts, verifies the checksum and returns the complete result.
// It never panics.
func Examine(data []byte) (res check.Result) {
	res = check.Result{Kind: check.KindDevice, Checksums: []check.Checksum{}}
	defer func() {
		// The decoders are encoding/json and the checksum printer; a panic
		// in either must not take the caller down.
		if r := recover(); r != nil {
			res.Verdict = check.Invalid
			res.Err = fmt.Errorf("%w: %s: internal error while examining: %v", check.ErrInvalid, what, r)
		}
	}()

	v2 := checkpoint.NewEmpty()
	errV2 := check.DecodeJSON(what, data, v2)
	v1 := checkpoint.NewEmptyV1()
	errV1 := check.DecodeJSON(what, data, v1)
	if errV2 == nil || errV1 == nil {
		if err := requireData(data); err != nil {
			errV2, errV1 = err, err
		}
	}

	switch {
	case errV2 == nil:
		cs := sumV2(v2)
		if !cs.OK && errV1 == nil {
			if old := sumPre120(v1); old.OK {
				old.Note = "the file also decodes in the v2 layout, but only the pre-1.20 rule verifies"
				return finish(res, FormatPre120, old, contentV1(v1))
			}
		}
		return finish(res, FormatV2, cs, contentV2(v2))
	case errV1 == nil:
		return finish(res, FormatPre120, sumPre120(v1), contentV1(v1))
	default:
		res.Format = FormatV2
		res.Description = describe(FormatV2)
		res.Verdict = check.Invalid
		res.Err = furthest(errV2, errV1)
		return res
	}
}

// finish fills res for a decoded file whose checksum was computed as cs.
func finish(res check.Result, format string, cs check.Checksum, c *Content) check.Result {
	res.Format = format
	res.Description = describe(format)
	res.Checksums = append(res.Checksums, cs)
	res.Content = c
	res.Tables = tables(c)
	n := len(c.Allocations)
	res.Notes = append(res.Notes, fmt.Sprintf("%d allocation%s, %d registered resource%s",
		n, plural(n), len(c.RegisteredDevices), plural(len(c.RegisteredDevices))))
	if format == FormatPre120 {
		res.Notes = append(res.Notes,
			"pre-1.20 layout: DeviceIDs is a flat list without NUMA nodes. Kubelet 1.31 and later (and 1.20-1.22 "+
				"releases without the fix of kubernetes#102882) cannot decode it: they log \"Continue after failing "+
				"to read checkpoint file\" and silently start with EMPTY device state, so these allocations are "+
				"lost. Kubelet 1.20-1.30 with the fix read it with every device on NUMA node 0.")
	}
	if cs.OK {
		res.Verdict = check.Valid
		return res
	}
	res.Verdict = check.Corrupt
	res.Err = corruptErr(format, cs.Stored, cs.Computed, cs.Rule)
	return res
}

func describe(format string) string {
	if format == FormatPre120 {
		return "device manager checkpoint, pre-1.20 layout (written by kubelet <=1.19; read by kubelet 1.20-1.30 " +
			"through the V1 fallback, not by kubelet >=1.31)"
	}
	return "device manager checkpoint V2 (written and read by kubelet 1.20 and later)"
}

func sumV2(d *checkpoint.Data) check.Checksum {
	got := d.Computed()
	return check.Checksum{Field: "Checksum", Rule: ruleV2, Stored: uint64(d.Checksum), Computed: uint64(got),
		OK: got == d.Checksum, HashedText: d.Text()}
}

func sumPre120(d *checkpoint.DataV1) check.Checksum {
	text := d.Text()
	got := checksum.Sum([]byte(text))
	return check.Checksum{Field: "Checksum", Rule: rulePre20, Stored: uint64(d.Checksum), Computed: uint64(got),
		OK: got == d.Checksum, HashedText: text}
}

func corruptErr(format string, stored, computed uint64, rule string) error {
	return fmt.Errorf("%w: %s (%s): field Checksum stores %d but the content hashes to %d (rule %s)",
		check.ErrCorrupt, what, format, stored, computed, rule)
}

// requireData reports a file without a "Data" member as invalid: kubelet
// would read it as an empty checkpoint, but a file that lacks the section
// that holds all of its state is not a device manager checkpoint.
func requireData(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return check.ContentError(what, "the document is not a JSON object")
	}
	for k := range top {
		if equalFold(k, "Data") {
			return nil
		}
	}
	return check.ContentError(what, "required section \"Data\" is missing")
}

// furthest returns the decode error that got further into the file: when a
// file fails both layouts, the layout that decoded more of it is the one the
// file was meant to have.
func furthest(a, b error) error {
	var da, db *check.DecodeError
	if errors.As(a, &da) && errors.As(b, &db) && db.Offset > da.Offset {
		return b
	}
	return a
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
