// Package example reads, verifies and writes the example checkpoint format
// of kubelet's checkpointmanager tests, example_checkpoint_formats/v1
// (FORMATS.md §1): {"Version":"v1","Name":...,"Data":{"port_mappings":[...],
// "host_network":...},"Checksum":N}, with N kubelet's checksum of the Data
// value. It is the smallest complete checkpoint format, useful to try the
// checkpoint manager and to show how the checksum depends on Go type names.
package example

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	v1 "github.com/ckptkit/ckpt/kubelet/example/internal/v1"
)

// FormatV1 is the only format, reported in check.Result.Format.
const FormatV1 = "v1"

const (
	what = "checkpointmanager example checkpoint"
	rule = "fnv32a(spew v1.Data)"
)

// CheckpointData is the example checkpoint, kubelet's v1.CheckpointData.
type CheckpointData = v1.CheckpointData

// Data is its checksummed part.
type Data = v1.Data

// PortMapping is one port mapping; set its protocol with SetProtocol.
type PortMapping = v1.PortMapping

// Decode decodes and verifies an example checkpoint. It returns a
// *check.DecodeError (check.ErrInvalid) when data cannot be decoded or lacks
// Data, and the checkpoint with an error wrapping check.ErrCorrupt when the
// checksum does not match.
func Decode(data []byte) (*CheckpointData, error) {
	cp, err := decode(data)
	if err != nil {
		return nil, err
	}
	text, _ := cp.Text()
	if got := checksum.Sum([]byte(text)); got != cp.Checksum {
		return cp, corruptErr(uint64(cp.Checksum), uint64(got))
	}
	return cp, nil
}

func decode(data []byte) (*CheckpointData, error) {
	cp := v1.New()
	if err := check.DecodeJSON(what, data, cp); err != nil {
		return nil, err
	}
	if _, ok := check.Find(check.ScanObject(data), "Data"); !ok {
		return nil, check.ContentError(what, "required member \"Data\" is missing")
	}
	if cp.Data == nil {
		return nil, check.ContentError(what, "\"Data\" is null: kubelet would crash (nil pointer) verifying it")
	}
	return cp, nil
}

// Encode returns the bytes kubelet's MarshalCheckpoint writes for cp, with
// the checksum computed over *cp.Data. cp.Data must not be nil.
func Encode(cp CheckpointData) ([]byte, error) {
	if cp.Data == nil {
		return nil, fmt.Errorf("encode %s: %w", what, check.ContentError(what, "Data is nil"))
	}
	cp.Checksum = checksum.New(*cp.Data)
	out, err := json.Marshal(cp)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return out, nil
}

// Sniff reports whether data looks like the example format: "Version",
// "Name" and "Data" members spelled exactly so, no "namespace" member (the
// dockershim sandbox checkpoint has one, in lower case), and a Data object
// whose members, if any, are port_mappings and host_network (the device
// manager checkpoint's Data holds PodDeviceEntries). Sniff is cheap and
// never panics.
func Sniff(data []byte) bool {
	ms := check.ScanObject(data)
	var version, name bool
	var d *check.Member
	for i, m := range ms {
		switch m.Key {
		case "Version":
			version = true
		case "Name":
			name = true
		case "Data":
			d = &ms[i]
		}
	}
	if _, ns := check.Find(ms, "namespace"); !version || !name || d == nil || ns {
		return false
	}
	if d.First != '{' && d.First != 'n' && d.First != 0 {
		return false
	}
	for _, m := range check.ScanObject(d.Raw) {
		if !strings.EqualFold(m.Key, "port_mappings") && !strings.EqualFold(m.Key, "host_network") {
			return false
		}
	}
	return true
}

// Examine decodes data as an example checkpoint, verifies its checksum and
// returns the complete result. It never panics.
func Examine(data []byte) (res check.Result) {
	res = check.Result{Kind: check.KindExample, Format: FormatV1, Checksums: []check.Checksum{},
		Description: "checkpointmanager example format (example_checkpoint_formats/v1 of kubelet's tests), " +
			"checksum over the Data value"}
	defer func() {
		if r := recover(); r != nil {
			res.Verdict = check.Invalid
			res.Err = fmt.Errorf("%w: %s: internal error while examining: %v", check.ErrInvalid, what, r)
		}
	}()
	cp, err := decode(data)
	if err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	text, _ := cp.Text()
	got := checksum.Sum([]byte(text))
	cs := check.Checksum{Field: "Checksum", Rule: rule, Stored: uint64(cp.Checksum), Computed: uint64(got),
		OK: got == cp.Checksum, HashedText: text}
	res.Checksums = append(res.Checksums, cs)
	c := content(cp)
	res.Content, res.Tables = c, tables(c)
	if cs.OK {
		res.Verdict = check.Valid
		return res
	}
	res.Verdict = check.Corrupt
	res.Err = corruptErr(cs.Stored, cs.Computed)
	return res
}

func corruptErr(stored, computed uint64) error {
	return fmt.Errorf("%w: %s: stored checksum %d but the content gives %d (rule %s)",
		check.ErrCorrupt, what, stored, computed, rule)
}

// Content is the decoded example checkpoint, normalized for JSON output.
type Content struct {
	Version      string        `json:"version"`
	Name         string        `json:"name"`
	HostNetwork  bool          `json:"hostNetwork"`
	PortMappings []PortContent `json:"portMappings"`
}

// PortContent is one port mapping; absent values are nil.
type PortContent struct {
	Protocol      *string `json:"protocol"`
	ContainerPort *int32  `json:"containerPort"`
	HostPort      *int32  `json:"hostPort"`
}

func content(cp *CheckpointData) *Content {
	c := &Content{Version: cp.Version, Name: cp.Name, HostNetwork: cp.Data.HostNetwork, PortMappings: []PortContent{}}
	for _, pm := range cp.Data.PortMappings {
		if pm == nil {
			c.PortMappings = append(c.PortMappings, PortContent{})
			continue
		}
		p := PortContent{ContainerPort: pm.ContainerPort, HostPort: pm.HostPort}
		if s, ok := pm.ProtocolName(); ok {
			p.Protocol = &s
		}
		c.PortMappings = append(c.PortMappings, p)
	}
	return c
}

func tables(c *Content) []check.Table {
	t := check.Table{Title: "Port mappings (" + c.Name + ", host network " + strconv.FormatBool(c.HostNetwork) + ")",
		Header: []string{"protocol", "container port", "host port"}, Rows: [][]string{}}
	for _, p := range c.PortMappings {
		t.Rows = append(t.Rows, []string{str(p.Protocol), num(p.ContainerPort), num(p.HostPort)})
	}
	return []check.Table{t}
}

func str(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func num(p *int32) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(int(*p))
}
