// Package repair recomputes every checksum a kubelet checkpoint carries,
// after an operator edited the file by hand on purpose, and says first what
// the new checksums will cover: a semantic diff against the last content
// that still verifies.
//
// Prepare computes a Plan and never writes; the caller shows it (a dry run)
// and writes Plan.Data through kubelet/fix/safewrite with Plan.Verify. The
// rules, in order:
//
//  1. The file must decode in its format (a truncated or garbled file is
//     refused with ErrUndecodable: a checksum over garbage helps nobody),
//     and every cpuset or value kubelet parses must parse. One exception:
//     a complete document that verifies, followed by trailing bytes (case
//     B25), is salvaged: the plan keeps that document byte for byte
//     (Plan.Salvaged) and recomputes nothing.
//  2. A file whose checksums all verify needs nothing (Plan.Unchanged).
//  3. The file is written again in the same format and the same layout,
//     with every checksum recomputed under the rule kubelet writes (cpu V2
//     and V3 and memory V1 under the legacy type name, which every reader
//     accepts).
//  4. Formats with two checksums (cpu V4, memory V3) carry the state twice:
//     the side whose checksum fails is the one that was edited, and the
//     other side is rebuilt from it (pod-level entries and baselines, which
//     only data holds, are kept). When both fail, data wins (kubelet 1.37
//     reads it).
//  5. The baseline of the diff is the side that still verifies; for a
//     format with one checksum, the newest backup of the file (in the
//     backup directory) that verifies; otherwise there is none, and the new
//     checksums cover the file as it is.
//
// Prepare never panics, never prints and never exits.
package repair

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dockershim"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// Options configures Prepare.
type Options struct {
	// BackupDir is where earlier copies of the file are looked for (the
	// backups kubelet/fix/safewrite makes, named <file>.<timestamp>);
	// empty means <directory of the file>/../ckpt-backup.
	BackupDir string
}

// Fix is one checksum before and after.
type Fix struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
	Old   uint64 `json:"old"`
	New   uint64 `json:"new"`
}

// Change is one difference between the baseline and the new content, by
// JSON path of the normalized content ("entries.<pod>.<container>").
type Change struct {
	Path string `json:"path"`
	// Op is "added", "removed" or "changed".
	Op  string `json:"op"`
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// Plan is what a repair would write.
type Plan struct {
	Path   string     `json:"path"`
	Kind   check.Kind `json:"kind"`
	Format string     `json:"format"`
	// Unchanged is set when every checksum already verifies.
	Unchanged bool `json:"unchanged,omitempty"`
	// Salvaged is set when the plan keeps the leading document of a file
	// that has trailing bytes after it (see Salvage): no checksum changes.
	Salvaged bool `json:"salvaged,omitempty"`
	// Fixes lists the checksums that change.
	Fixes []Fix `json:"fixes,omitempty"`
	// Covers says what the new checksums cover.
	Covers string `json:"covers,omitempty"`
	// Baseline names the verified content the diff is against ("" when
	// there is none).
	Baseline string `json:"baseline,omitempty"`
	// Diff lists what differs from the baseline.
	Diff []Change `json:"diff,omitempty"`
	// Notes add what people should know (e.g. which side was rebuilt).
	Notes []string `json:"notes,omitempty"`
	// Data is the repaired file.
	Data []byte `json:"-"`
}

// The errors of Prepare, for errors.Is.
var (
	// ErrUndecodable: the file does not decode in its format (or holds a
	// value kubelet cannot parse); there is nothing to checksum.
	ErrUndecodable = errors.New("the file does not decode; a checksum cannot fix it")
	// ErrUnsupported: the format's checksum cannot be recomputed.
	ErrUnsupported = errors.New("repair not supported for this format")
	// ErrResult: the repaired file does not verify (a bug; nothing is
	// written).
	ErrResult = errors.New("the repaired file does not verify")
)

// Prepare plans the repair of data (path names the file: it hints the kind
// and locates the backups).
func Prepare(path string, data []byte, opts Options) (p *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: internal error: %v", ErrResult, r)
		}
	}()
	res := kubelet.Examine(path, data)
	p = &Plan{Path: path, Kind: res.Kind, Format: res.Format}
	switch {
	case res.Verdict == check.Unknown:
		return nil, fmt.Errorf("%w: %s is not a kubelet checkpoint", ErrUnsupported, path)
	case res.Verdict == check.Invalid:
		if sp, ok := salvage(path, data, res); ok {
			return sp, nil
		}
		what := string(res.Kind)
		if res.Format != "" {
			what += " " + res.Format
		}
		return nil, fmt.Errorf("%w: %s (%s): %v", ErrUndecodable, path, what, res.Err)
	case res.Verdict == check.Valid:
		p.Unchanged = true
		p.Data = data
		p.Covers = "every checksum already verifies: nothing to repair"
		return p, nil
	}
	var baseline any
	switch res.Kind {
	case check.KindCPU:
		baseline, err = repairCPU(p, res)
	case check.KindMemory:
		baseline, err = repairMemory(p, res)
	case check.KindDevice:
		err = repairDevice(p, data, res)
	case check.KindDRA:
		p.Data, err = dra.Rechecksum(data, res.Format)
		p.Covers = "the file as it is now"
		if res.Format == dra.FormatCRC32 {
			p.Covers = "the Data string as it is now, byte for byte (crc32)"
		}
	case check.KindAllocation:
		err = repairAllocation(p, data, res)
	case check.KindDockershim:
		var cp *dockershim.PodSandboxCheckpoint
		cp, err = dockershim.Decode(data)
		if cp != nil {
			p.Data, err = dockershim.Encode(*cp)
			p.Covers = "the sandbox's port mappings and host network flag (name and namespace are not covered)"
		}
	default:
		err = fmt.Errorf("%w: %s", ErrUnsupported, res.Kind)
	}
	if err != nil {
		if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrUndecodable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	after := kubelet.Examine(path, p.Data)
	if after.Verdict != check.Valid || after.Format != p.Format {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrResult, after.Format, after.Verdict, after.Err)
	}
	p.Fixes = fixes(res.Checksums, after.Checksums)
	if baseline != nil {
		p.Diff = diff(baseline, stateOf(after))
	} else if b, name := latestBackup(path, res.Kind, opts); b != nil {
		p.Baseline = "the backup " + name + ", which verifies"
		p.Diff = diff(b, contentOf(after))
	}
	return p, nil
}

// Salvage reports whether data (read from path) is a complete checkpoint
// that verifies followed by trailing bytes, as a write that replaced a
// longer file without truncating it leaves behind (case B25), and returns
// that leading document, byte for byte.
func Salvage(path string, data []byte) ([]byte, bool) {
	res := kubelet.Examine(path, data)
	if res.Verdict != check.Invalid {
		return nil, false
	}
	p, ok := salvage(path, data, res)
	if !ok {
		return nil, false
	}
	return p.Data, true
}

// salvage plans keeping the leading document of a file that is invalid
// only because bytes follow a complete document, when that document
// verifies as the same kind (rule 1's one exception: nothing is
// recomputed, the checksums kubelet wrote are kept).
func salvage(path string, data []byte, res check.Result) (*Plan, bool) {
	var de *check.DecodeError
	if !errors.As(res.Err, &de) || de.Problem != check.ProblemTrailing || de.Size != len(data) {
		return nil, false // trailing bytes inside a data string are not a torn write
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, false
	}
	end := int(dec.InputOffset())
	if end <= 0 || end >= len(data) {
		return nil, false
	}
	lead := data[:end]
	r := kubelet.Examine(path, lead)
	if r.Verdict != check.Valid || r.Kind != res.Kind {
		return nil, false
	}
	tail := bytes.TrimLeft(data[end:], " \t\r\n")
	return &Plan{Path: path, Kind: r.Kind, Format: r.Format, Data: lead, Salvaged: true,
		Covers: fmt.Sprintf("nothing new: the leading document of %d bytes, which verifies as %s %s, is kept byte for byte; "+
			"the %d bytes after it go (%s)", end, r.Kind, r.Format, len(data)-end, check.Preview(tail, 40)),
		Baseline: "the leading document, which verifies",
		Notes: []string{"a complete checkpoint followed by the tail of an older, longer one: a write that did not " +
			"truncate the file, or damage after a crash (case B25); kubelet rejects the whole file"},
	}, true
}

// Verify checks bytes read back after writing the plan's file: valid, in
// the same format.
func (p *Plan) Verify(b []byte) error {
	res := kubelet.Examine(p.Path, b)
	if res.Verdict != check.Valid || res.Format != p.Format {
		return fmt.Errorf("%w: %s %s: %v", ErrResult, res.Format, res.Verdict, res.Err)
	}
	return nil
}

// fixes pairs the checksums before and after by field.
func fixes(before, after []check.Checksum) []Fix {
	var out []Fix
	for _, a := range after {
		f := Fix{Field: a.Field, Rule: a.Rule, New: a.Stored}
		for _, b := range before {
			if b.Field == a.Field {
				f.Old = b.Stored
			}
		}
		if f.Old != f.New {
			out = append(out, f)
		}
	}
	return out
}

// --- cpu manager ---

func repairCPU(p *Plan, res check.Result) (any, error) {
	c, ok := res.Content.(*cpumanager.Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content", ErrUndecodable)
	}
	s := c.State
	switch res.Format {
	case cpumanager.FormatV1:
		var err error
		p.Data, err = cpumanager.EncodeV1(c.PolicyName, c.DefaultCPUSet, c.ContainerEntries)
		p.Covers = "policy, default set and V1 entries as they are now (V1 checksum under the type name CPUManagerCheckpoint)"
		return nil, err
	case cpumanager.FormatV2, cpumanager.FormatFileBackend:
		p.Format = cpumanager.FormatV2
		if len(c.ContainerEntries) > 0 {
			p.Format = cpumanager.FormatV1
			var err error
			p.Data, err = cpumanager.EncodeV1(c.PolicyName, c.DefaultCPUSet, c.ContainerEntries)
			p.Covers = "policy, default set and V1 entries as they are now"
			return nil, err
		}
		var err error
		p.Data, err = cpumanager.EncodeV2(&s)
		p.Covers = "policy, default set and container entries as they are now (V2 checksum under the type name " +
			"CPUManagerCheckpoint, accepted by kubelet 1.18-1.37)"
		return nil, err
	case cpumanager.FormatV3:
		var err error
		p.Data, err = cpumanager.EncodeV3(&s)
		p.Covers = "policy, default set, container and pod-level entries as they are now (V3 checksum as kubelet 1.36 writes it)"
		return nil, err
	}
	// V4: two copies of the state.
	if len(res.Checksums) != 2 || c.Legacy == nil {
		return nil, fmt.Errorf("%w: V4 without both checksums", ErrUndecodable)
	}
	// A legacy checksum of 0 was never set, not edited: rebuild the block.
	legacyOK, legacyZero := res.Checksums[0].OK, res.Checksums[0].Stored == 0
	dataOK := res.Checksums[1].OK
	var baseline any
	switch {
	case dataOK && legacyZero:
		p.Baseline = "the data string, which verifies"
		baseline = c.State
		p.Covers = "the data string as it is; the embedded V2 block (checksum 0) is rebuilt from it"
	case !dataOK && legacyOK:
		p.Baseline = "the embedded V2 block, which still verifies (it never holds pod-level entries or baselines)"
		baseline = cpumanager.State{PolicyName: c.Legacy.PolicyName, DefaultCPUSet: c.Legacy.DefaultCPUSet, Entries: c.Legacy.Entries}
		p.Covers = "the data string as it is now; the embedded V2 block is rebuilt from it"
	case dataOK && !legacyOK:
		p.Baseline = "the data string, which still verifies"
		baseline = c.State
		s.PolicyName, s.DefaultCPUSet, s.Entries = c.Legacy.PolicyName, c.Legacy.DefaultCPUSet, c.Legacy.Entries
		p.Covers = "the embedded V2 block as it is now (policy, default set, container entries), copied into the data string, " +
			"whose pod-level entries and baselines are kept"
	default:
		p.Covers = "the data string as it is now (kubelet 1.37 reads it); the embedded V2 block is rebuilt from it"
		p.Notes = append(p.Notes, "neither copy of the state verifies; data is taken as the truth")
	}
	var err error
	p.Data, err = cpumanager.Encode(&s)
	return baseline, err
}

// --- memory manager ---

func repairMemory(p *Plan, res check.Result) (any, error) {
	c, ok := res.Content.(*memorymanager.Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content", ErrUndecodable)
	}
	s := c.State
	var err error
	switch res.Format {
	case memorymanager.FormatV1:
		p.Data, err = memorymanager.EncodeV1(&s)
		p.Covers = "policy, machine state and container blocks as they are now (V1 checksum under the type name MemoryManagerCheckpoint)"
		return nil, err
	case memorymanager.FormatV2:
		p.Data, err = memorymanager.EncodeV2(&s)
		p.Covers = "policy, machine state, container and pod-level blocks as they are now (V2 checksum as kubelet 1.36 writes it)"
		return nil, err
	}
	if len(res.Checksums) != 2 || c.Legacy == nil {
		return nil, fmt.Errorf("%w: V3 without both checksums", ErrUndecodable)
	}
	legacyOK, legacyZero := res.Checksums[0].OK, res.Checksums[0].Stored == 0
	dataOK := res.Checksums[1].OK
	var baseline any
	switch {
	case dataOK && legacyZero:
		p.Baseline = "the data string, which verifies"
		baseline = c.State
		p.Covers = "the data string as it is; the embedded V1 block (checksum 0) is rebuilt from it"
	case !dataOK && legacyOK:
		p.Baseline = "the embedded V1 block, which still verifies (it never holds pod-level entries)"
		baseline = memorymanager.State{PolicyName: c.Legacy.PolicyName, MachineState: c.Legacy.MachineState, Entries: c.Legacy.Entries}
		p.Covers = "the data string as it is now; the embedded V1 block is rebuilt from it"
	case dataOK && !legacyOK:
		p.Baseline = "the data string, which still verifies"
		baseline = c.State
		s.PolicyName, s.MachineState, s.Entries = c.Legacy.PolicyName, c.Legacy.MachineState, c.Legacy.Entries
		p.Covers = "the embedded V1 block as it is now, copied into the data string, whose pod-level entries are kept"
	default:
		p.Covers = "the data string as it is now (kubelet 1.37 reads it); the embedded V1 block is rebuilt from it"
		p.Notes = append(p.Notes, "neither copy of the state verifies; data is taken as the truth")
	}
	p.Data, err = memorymanager.Encode(&s)
	return baseline, err
}

// --- device manager, allocation ---

func repairDevice(p *Plan, data []byte, res check.Result) error {
	p.Covers = "the allocations and registered devices as they are now"
	if res.Format == devicemanager.FormatPre120 {
		cp, _ := devicemanager.DecodePre120(data)
		if cp == nil {
			return fmt.Errorf("%w: pre-1.20 layout", ErrUndecodable)
		}
		var err error
		p.Data, err = devicemanager.EncodePre120(*cp)
		return err
	}
	cp, _ := devicemanager.Decode(data)
	if cp == nil {
		return fmt.Errorf("%w: v2 layout", ErrUndecodable)
	}
	var err error
	p.Data, err = devicemanager.Encode(*cp)
	return err
}

func repairAllocation(p *Plan, data []byte, res check.Result) error {
	if res.Format == allocation.FormatStruct127 {
		return fmt.Errorf("%w: the 1.27-1.31 pod_status_manager_state hashes resource.Quantity internals, which only "+
			"kubelet's own types reproduce; kubelet 1.33+ no longer reads that file", ErrUnsupported)
	}
	var f struct {
		Data     string            `json:"data"`
		Checksum checksum.Checksum `json:"checksum"`
	}
	if err := check.DecodeJSON("pod resource checkpoint", data, &f); err != nil {
		return err
	}
	f.Checksum = checksum.OfString(f.Data)
	b, err := json.Marshal(&f)
	if err != nil {
		return err
	}
	p.Data = b
	p.Covers = "the data string as it is now, byte for byte"
	return nil
}

// --- baselines and diffs ---

// contentOf returns a result's normalized content.
func contentOf(res check.Result) any { return res.Content }

// stateOf returns the restored state alone (without the embedded legacy
// block) for the formats that carry two copies, to diff against one copy.
func stateOf(res check.Result) any {
	switch c := res.Content.(type) {
	case *cpumanager.Content:
		return c.State
	case *memorymanager.Content:
		return c.State
	}
	return res.Content
}

// latestBackup returns the content of the newest backup of path that
// verifies and is of the same kind, and its path.
func latestBackup(path string, kind check.Kind, opts Options) (any, string) {
	dir := opts.BackupDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(filepath.Clean(path)), "..", "ckpt-backup")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, ""
	}
	prefix := filepath.Base(path) + "."
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	// Backup names end in a UTC timestamp (and maybe ".N"), so the
	// lexical order is the time order.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		full := filepath.Join(dir, n)
		b, _, err := kubelet.ReadFile(full, 0)
		if err != nil {
			continue
		}
		r := kubelet.Examine(path, b)
		if r.Kind == kind && (r.Verdict == check.Valid || r.Verdict == check.Unverified) {
			return r.Content, full
		}
	}
	return nil, ""
}

// diff compares two contents by their normalized JSON.
func diff(before, after any) []Change {
	a, b := flatten(before), flatten(after)
	var out []Change
	for _, k := range sortedKeys(a) {
		if nv, ok := b[k]; !ok {
			out = append(out, Change{Path: k, Op: "removed", Old: a[k]})
		} else if nv != a[k] {
			out = append(out, Change{Path: k, Op: "changed", Old: a[k], New: nv})
		}
	}
	for _, k := range sortedKeys(b) {
		if _, ok := a[k]; !ok {
			out = append(out, Change{Path: k, Op: "added", New: b[k]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten maps every leaf of v's JSON form to its value text, by path.
func flatten(v any) map[string]string {
	out := map[string]string{}
	raw, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var tree any
	if json.Unmarshal(raw, &tree) != nil {
		return out
	}
	var walk func(prefix string, n any)
	walk = func(prefix string, n any) {
		switch t := n.(type) {
		case map[string]any:
			if len(t) == 0 && prefix != "" {
				return // an empty map says nothing: absent and empty are the same state
			}
			for k, c := range t {
				walk(join(prefix, k), c)
			}
		case []any:
			if len(t) == 0 {
				return
			}
			for i, c := range t {
				walk(prefix+"["+strconv.Itoa(i)+"]", c)
			}
		case nil:
		default:
			b, _ := json.Marshal(t)
			s := string(b)
			if str, ok := t.(string); ok {
				s = str
			}
			out[prefix] = s
		}
	}
	walk("", tree)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
