// Package allocation reads, verifies and writes kubelet's pod resource
// checkpoints (FORMATS.md §3.5), in their three formats:
//
//   - "v1.33": allocated_pods_state and actuated_pods_state (kubelet
//     1.33+), {"data":"<json>","checksum":N} where the data holds
//     {"entries":{podUID:{ContainerResources, PodLevelResources,
//     EmptyDirVolumeLimits}}} and N is kubelet's checksum of the data string,
//     fnv32a("(string)"+data).
//   - "status-1.32": pod_status_manager_state of kubelet 1.32, the same
//     envelope over {"allocationEntries":{pod:{container:requirements}}}.
//   - "status-1.27": pod_status_manager_state of kubelet 1.27-1.31
//     (InPlacePodVerticalScaling alpha), {"allocationEntries":...,
//     "resizeStatusEntries":...,"checksum":N} where N hashes the decoded Go
//     struct, resource.Quantity internals included. Examine recomputes it the
//     way kubelet's reader does after decoding the JSON.
//
// Quantities are kept as the strings in the file. Decode and Encode handle
// the current format, byte-exact with kubelet v1.37.2.
package allocation

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/allocation/internal/state"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// The file names kubelet uses, in its root directory.
const (
	// AllocatedFileName is the allocation manager's file (1.33+).
	AllocatedFileName = "allocated_pods_state"
	// ActuatedFileName is the file of actuated resources (1.33+).
	ActuatedFileName = "actuated_pods_state"
	// StatusFileName is the status manager's file (1.27-1.32), abandoned
	// by 1.33 and later, which neither read nor delete it.
	StatusFileName = "pod_status_manager_state"
)

// The format names Examine reports in check.Result.Format.
const (
	// FormatData133 is the data-string format over "entries" (1.33+).
	FormatData133 = "v1.33"
	// FormatData132 is the data-string format over "allocationEntries"
	// (1.32).
	FormatData132 = "status-1.32"
	// FormatStruct127 is the struct-hash format of 1.27-1.31.
	FormatStruct127 = "status-1.27"
)

const (
	what       = "pod resource checkpoint"
	whatData   = "pod resource checkpoint data string"
	ruleData   = `fnv32a("(string)" + data)`
	ruleStruct = "fnv32a(spew *state.PodResourceAllocationCheckpoint as decoded, resource.Quantity internals included)"
)

// quantityNote explains why a status-1.27 file can fail without damage.
const quantityNote = "this format hashes resource.Quantity internals as kubelet's reader rebuilds them from the JSON " +
	"text; a writer that held a quantity parsed from a non-canonical string (\"1000m\", \"1.5Gi\") hashed other " +
	"internals than the canonical text it wrote (\"1\", \"1536Mi\") decodes to, so such a file fails the check even " +
	"though no byte is damaged. Kubelet 1.27-1.31 rejects it too (and panics)"

// Sniff reports whether data looks like a pod resource checkpoint:
//
//   - data-string formats: a "data" member (any case) whose string names
//     "entries" or "allocationEntries" as a key and does not name the DRA
//     checkpoint's kind or ClaimInfoStateList (the DRA checkpoint is
//     {"Data":"...","Checksum":N} with those inside);
//   - status-1.27: an "allocationEntries" or "resizeStatusEntries" member.
//
// A file cut short inside the data string is recognised by the start of
// its content. Sniff is cheap and never panics.
func Sniff(data []byte) bool {
	ms := check.ScanObject(data)
	if m, ok := check.Find(ms, "data"); ok {
		if m.First != '"' || containsFold(m.Raw, "DRACheckpoint") || containsFold(m.Raw, "ClaimInfoStateList") {
			return false
		}
		return containsFold(m.Raw, `\"entries\"`) || containsFold(m.Raw, `\"allocationEntries\"`) ||
			strings.HasPrefix(string(m.Raw), `"{}"`)
	}
	if _, ok := check.Find(ms, "allocationEntries"); ok {
		return true
	}
	_, ok := check.Find(ms, "resizeStatusEntries")
	return ok
}

// Examine decodes data as a pod resource checkpoint, picks the format from
// its keys, verifies the checksum and returns the complete result. It never
// panics.
func Examine(data []byte) (res check.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = check.Result{Kind: check.KindAllocation, Format: FormatData133, Verdict: check.Invalid,
				Checksums: []check.Checksum{},
				Err:       fmt.Errorf("%w: %s: internal error while examining: %v", check.ErrInvalid, what, r)}
		}
	}()
	ms := check.ScanObject(data)
	_, hasData := check.Find(ms, "data")
	_, hasAlloc := check.Find(ms, "allocationEntries")
	_, hasResize := check.Find(ms, "resizeStatusEntries")
	_, hasSum := check.Find(ms, "checksum")
	if !hasData && (hasAlloc || hasResize || hasSum) {
		return examineStruct(data)
	}
	return examineData(data)
}

func describe(format string) string {
	switch format {
	case FormatData132:
		return "pod status manager checkpoint (pod_status_manager_state), data-string format of kubelet 1.32; " +
			"kubelet 1.33 and later no longer read that file"
	case FormatStruct127:
		return "pod status manager checkpoint (pod_status_manager_state), struct-hash format of kubelet 1.27-1.31 " +
			"(InPlacePodVerticalScaling alpha); kubelet 1.33 and later no longer read that file"
	}
	return "pod resource checkpoint (allocated_pods_state / actuated_pods_state), checksum over the data string " +
		"(written and read by kubelet 1.33 and later)"
}

// examineData examines the data-string formats (1.32 and 1.33+).
func examineData(data []byte) check.Result {
	res := check.Result{Kind: check.KindAllocation, Format: FormatData133, Description: describe(FormatData133),
		Checksums: []check.Checksum{}}
	var f dataFile
	err := check.DecodeJSON(what, data, &f)
	if err == nil {
		err = requireMember(data, "data")
	}
	if err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	inner := check.ScanObject([]byte(f.Data))
	_, hasEntries := check.Find(inner, "entries")
	_, hasAlloc := check.Find(inner, "allocationEntries")
	if hasAlloc && !hasEntries {
		res.Format, res.Description = FormatData132, describe(FormatData132)
	}
	got := checksum.OfString(f.Data)
	cs := check.Checksum{Field: "checksum", Rule: ruleData, Stored: uint64(f.Checksum), Computed: uint64(got),
		OK: got == f.Checksum, HashedText: "(string)" + f.Data}
	res.Checksums = append(res.Checksums, cs)

	var c *Content
	var derr error
	if res.Format == FormatData132 {
		var info PodResourceAllocationInfo
		if derr = check.DecodeJSON(whatData, []byte(f.Data), &info); derr == nil {
			c = content132(&info)
			res.Notes = append(res.Notes, "kubelet 1.33 and later would verify this data string but ignore "+
				"\"allocationEntries\" (they read \"entries\"), so under allocated_pods_state it loads as no pods")
		}
	} else {
		var info PodResourceCheckpointInfo
		if derr = check.DecodeJSON(whatData, []byte(f.Data), &info); derr == nil {
			c = content133(&info)
			if hasAlloc {
				res.Notes = append(res.Notes, "the data string also has 1.32 \"allocationEntries\", which kubelet 1.33+ ignores")
			}
			if len(inner) == 0 {
				res.Notes = append(res.Notes, "no entries: the 1.32 and 1.33+ formats are identical when empty")
			}
		}
	}
	if c != nil {
		res.Content, res.Tables = c, tables(c)
		res.Notes = append(res.Notes, summary(c))
	}
	switch {
	case !cs.OK:
		res.Verdict = check.Corrupt
		res.Err = corruptErr(res.Format, cs.Stored, cs.Computed, ruleData)
		if derr != nil {
			res.Notes = append(res.Notes, "the data string does not decode either: "+derr.Error())
		}
	case derr != nil:
		res.Verdict, res.Err = check.Invalid, derr
	default:
		res.Verdict = check.Valid
	}
	return res
}

// examineStruct examines the 1.27-1.31 struct-hash format.
func examineStruct(data []byte) check.Result {
	res := check.Result{Kind: check.KindAllocation, Format: FormatStruct127, Description: describe(FormatStruct127),
		Checksums: []check.Checksum{}}
	cp := state.New()
	if err := check.DecodeJSON(what, data, cp); err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	// The same bytes decoded again with the quantities kept as written, for
	// people to read.
	var view struct {
		AllocationEntries   map[string]map[string]ResourceList `json:"allocationEntries"`
		ResizeStatusEntries map[string]string                  `json:"resizeStatusEntries"`
	}
	if err := check.DecodeJSON(what, data, &view); err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	text := cp.Text()
	got := checksum.Sum([]byte(text))
	cs := check.Checksum{Field: "checksum", Rule: ruleStruct, Stored: uint64(cp.Checksum), Computed: uint64(got),
		OK: got == cp.Checksum, HashedText: text}
	c := contentStruct(view.AllocationEntries, view.ResizeStatusEntries)
	res.Content, res.Tables = c, tables(c)
	res.Notes = append(res.Notes, summary(c))
	if cs.OK {
		res.Checksums = append(res.Checksums, cs)
		res.Verdict = check.Valid
		return res
	}
	cs.Note = quantityNote
	res.Checksums = append(res.Checksums, cs)
	res.Verdict = check.Corrupt
	res.Err = corruptErr(FormatStruct127, cs.Stored, cs.Computed, ruleStruct)
	return res
}

func corruptErr(format string, stored, computed uint64, rule string) error {
	return fmt.Errorf("%w: %s (%s): stored checksum %d but the content gives %d (rule %s)",
		check.ErrCorrupt, what, format, stored, computed, rule)
}
