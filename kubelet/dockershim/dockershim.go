// Package dockershim reads, verifies and writes the sandbox checkpoints of
// dockershim (FORMATS.md §3.7), <dockershim root>/sandbox/<sandboxID>,
// under both of their checksum rules:
//
//   - "v1" (kubelet 1.10-1.23, through checkpointmanager): the checksum
//     hashes only the Data value, "(dockershim.CheckpointData){...}"; name
//     and namespace are not covered. Two PortMapping layouts existed (with
//     and without HostIP); both are tried.
//   - "pre-1.10" (the dockershim before checkpointmanager): the checksum
//     hashes the whole checkpoint value with CheckSum zeroed, and
//     CheckpointData holds only PortMappings. Kubelet 1.10+ finds such files
//     corrupt and deletes them.
//
// Dockershim was removed in kubelet 1.24: no current kubelet reads these
// files. Examine reports which rule verified.
package dockershim

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/dockershim/internal/pre110/dockershim"
	v110 "github.com/ckptkit/ckpt/kubelet/dockershim/internal/v110/dockershim"
	noip "github.com/ckptkit/ckpt/kubelet/dockershim/internal/v110nohostip/dockershim"
)

// The format names Examine reports in check.Result.Format.
const (
	// FormatV1 is the checkpointmanager era, kubelet 1.10-1.23.
	FormatV1 = "v1"
	// FormatPre110 is the dockershim before checkpointmanager.
	FormatPre110 = "pre-1.10"
)

const (
	what       = "dockershim sandbox checkpoint"
	ruleV1     = "fnv32a(spew dockershim.CheckpointData) [kubelet 1.10-1.23]"
	ruleNoIP   = "fnv32a(spew dockershim.CheckpointData, PortMapping without HostIP) [early kubelet 1.1x]"
	rulePre110 = "fnv32a(spew dockershim.PodSandboxCheckpoint with CheckSum 0) [dockershim before kubelet 1.10]"
)

// PodSandboxCheckpoint is a sandbox checkpoint in the kubelet 1.10-1.23
// layout.
type PodSandboxCheckpoint = v110.PodSandboxCheckpoint

// CheckpointData is the checksummed part: port mappings and host network.
type CheckpointData = v110.CheckpointData

// PortMapping is one port mapping of a sandbox.
type PortMapping = v110.PortMapping

// Protocol is a port mapping protocol ("tcp", "udp", "sctp").
type Protocol = v110.Protocol

// Decode decodes and verifies a kubelet 1.10-1.23 sandbox checkpoint. It
// returns a *check.DecodeError (check.ErrInvalid) when data cannot be
// decoded or has a null data member, and the checkpoint with an error
// wrapping check.ErrCorrupt when the checksum does not match.
func Decode(data []byte) (*PodSandboxCheckpoint, error) {
	cp := v110.New()
	if err := check.DecodeJSON(what, data, cp); err != nil {
		return nil, err
	}
	text, ok := cp.Text()
	if !ok {
		return nil, nullData()
	}
	if got := checksum.Sum([]byte(text)); got != cp.Checksum {
		return cp, corruptErr(FormatV1, uint64(cp.Checksum), uint64(got), ruleV1)
	}
	return cp, nil
}

// Encode returns the bytes kubelet 1.10-1.23 wrote for cp, with the
// checksum computed over *cp.Data. cp.Data must not be nil.
func Encode(cp PodSandboxCheckpoint) ([]byte, error) {
	if cp.Data == nil {
		return nil, fmt.Errorf("encode %s: %w", what, nullData())
	}
	cp.Checksum = checksum.New(*cp.Data)
	out, err := json.Marshal(cp)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return out, nil
}

// Sniff reports whether data looks like a dockershim sandbox checkpoint: a
// "namespace" member (any case), or "version" and "name" members spelled in
// lower case. The checkpointmanager example format has "Version" and "Name"
// in upper case and no namespace; the legacy DRA checkpoint has no name.
// Sniff is cheap and never panics.
func Sniff(data []byte) bool {
	ms := check.ScanObject(data)
	if _, ok := check.Find(ms, "namespace"); ok {
		return true
	}
	var version, name bool
	for _, m := range ms {
		version = version || m.Key == "version"
		name = name || m.Key == "name"
	}
	return version && name
}

// Examine decodes data as a sandbox checkpoint, tries every checksum rule
// and returns the complete result. It never panics.
func Examine(data []byte) (res check.Result) {
	res = check.Result{Kind: check.KindDockershim, Format: FormatV1, Description: describe(FormatV1),
		Checksums: []check.Checksum{}}
	defer func() {
		if r := recover(); r != nil {
			res.Verdict = check.Invalid
			res.Err = fmt.Errorf("%w: %s: internal error while examining: %v", check.ErrInvalid, what, r)
		}
	}()
	cp := v110.New()
	if err := check.DecodeJSON(what, data, cp); err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	if err := requireIdentity(data); err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	c := content(cp)
	res.Content, res.Tables = c, tables(c)

	type attempt struct {
		format, rule, text string
		stored             uint64
	}
	var tries []attempt
	if text, ok := cp.Text(); ok {
		tries = append(tries, attempt{FormatV1, ruleV1, text, uint64(cp.Checksum)})
		old := noip.New()
		if err := json.Unmarshal(data, old); err == nil {
			if text, ok := old.Text(); ok {
				tries = append(tries, attempt{FormatV1, ruleNoIP, text, uint64(old.Checksum)})
			}
		}
	}
	pre := &dockershim.PodSandboxCheckpoint{}
	if err := json.Unmarshal(data, pre); err == nil {
		tries = append(tries, attempt{FormatPre110, rulePre110, pre.Text(), pre.CheckSum})
	}
	if len(tries) == 0 {
		res.Verdict, res.Err = check.Invalid, nullData()
		return res
	}
	pick, ok := 0, false
	for i, a := range tries {
		if checksum.Sum([]byte(a.text)) == checksum.Checksum(a.stored) {
			pick, ok = i, true
			break
		}
	}
	a := tries[pick]
	got := uint64(checksum.Sum([]byte(a.text)))
	cs := check.Checksum{Field: "checksum", Rule: a.rule, Stored: a.stored, Computed: got, OK: ok, HashedText: a.text}
	if ok {
		cs.Note = "verified with the rule " + a.rule
	} else {
		cs.Note = "no known rule verifies"
		for _, t := range tries[1:] {
			cs.Note += fmt.Sprintf("; %s computes %d", t.rule, checksum.Sum([]byte(t.text)))
		}
	}
	res.Format, res.Description = a.format, describe(a.format)
	res.Checksums = append(res.Checksums, cs)
	if cp.Data == nil {
		res.Notes = append(res.Notes, "\"data\" is null: kubelet 1.10-1.23 would dereference it and crash while verifying")
	}
	if a.format == FormatPre110 {
		res.Notes = append(res.Notes, "pre-checkpointmanager file: kubelet 1.10-1.23 finds it corrupt and deletes it "+
			"(ListPodSandbox / StopPodSandbox)")
	}
	if ok {
		res.Verdict = check.Valid
		return res
	}
	res.Verdict = check.Corrupt
	res.Err = corruptErr(a.format, a.stored, got, a.rule)
	return res
}

func describe(format string) string {
	if format == FormatPre110 {
		return "dockershim sandbox checkpoint of the dockershim before checkpointmanager (kubelet <1.10), checksum " +
			"over the whole struct; no kubelet >=1.10 accepts it"
	}
	return "dockershim sandbox checkpoint (kubelet 1.10-1.23), checksum over the data value; dockershim was removed " +
		"in kubelet 1.24"
}

// requireIdentity reports a document without name and namespace members as
// invalid: they identify the sandbox, even though no checksum covers them.
func requireIdentity(data []byte) error {
	ms := check.ScanObject(data)
	for _, k := range []string{"name", "namespace"} {
		if _, ok := check.Find(ms, k); !ok {
			return check.ContentError(what, "required member %q is missing", k)
		}
	}
	return nil
}

func nullData() error {
	return check.ContentError(what, "\"data\" is null: kubelet 1.10-1.23 would crash (nil pointer) verifying it")
}

func corruptErr(format string, stored, computed uint64, rule string) error {
	return fmt.Errorf("%w: %s (%s): stored checksum %d but the content gives %d (rule %s)",
		check.ErrCorrupt, what, format, stored, computed, rule)
}

// Content is the decoded sandbox checkpoint, normalized for JSON output.
type Content struct {
	Version      string        `json:"version"`
	Name         string        `json:"name"`
	Namespace    string        `json:"namespace"`
	HostNetwork  bool          `json:"hostNetwork"`
	PortMappings []PortContent `json:"portMappings"`
}

// PortContent is one port mapping; absent values are nil.
type PortContent struct {
	Protocol      *string `json:"protocol"`
	ContainerPort *int32  `json:"containerPort"`
	HostPort      *int32  `json:"hostPort"`
	HostIP        string  `json:"hostIP,omitempty"`
}

func content(cp *PodSandboxCheckpoint) *Content {
	c := &Content{Version: cp.Version, Name: cp.Name, Namespace: cp.Namespace, PortMappings: []PortContent{}}
	if cp.Data == nil {
		return c
	}
	c.HostNetwork = cp.Data.HostNetwork
	for _, pm := range cp.Data.PortMappings {
		if pm == nil {
			c.PortMappings = append(c.PortMappings, PortContent{})
			continue
		}
		p := PortContent{ContainerPort: pm.ContainerPort, HostPort: pm.HostPort, HostIP: pm.HostIP}
		if pm.Protocol != nil {
			s := string(*pm.Protocol)
			p.Protocol = &s
		}
		c.PortMappings = append(c.PortMappings, p)
	}
	return c
}

func tables(c *Content) []check.Table {
	sb := check.Table{Title: "Sandbox", Header: []string{"name", "namespace", "host network"},
		Rows: [][]string{{c.Name, c.Namespace, strconv.FormatBool(c.HostNetwork)}}}
	pm := check.Table{Title: "Port mappings", Header: []string{"protocol", "container port", "host port", "host IP"},
		Rows: [][]string{}}
	for _, p := range c.PortMappings {
		pm.Rows = append(pm.Rows, []string{str(p.Protocol), num(p.ContainerPort), num(p.HostPort), p.HostIP})
	}
	return []check.Table{sb, pm}
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
