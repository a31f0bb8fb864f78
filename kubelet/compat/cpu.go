package compat

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
)

// Kubelet's words, where a ladder ends in its error.
const msgCorrupted = "checkpoint is corrupted"

// What kubelet does after rejecting each kind of file (Report.Notes).
const (
	cpuExit = "a kubelet that rejects this file exits at start: \"could not restore state from checkpoint: <reason>, " +
		"please drain this node and delete the CPU manager checkpoint file ... before restarting Kubelet\""
	memExit = "a kubelet that rejects this file exits at start: \"could not restore state from checkpoint: <reason>, " +
		"please drain this node and delete the memory manager checkpoint file ... before restarting Kubelet\""
)

// cpuLayout is one layout a cpu manager reader tries.
type cpuLayout string

const (
	cpuV1 cpuLayout = "V1"
	cpuV2 cpuLayout = "V2"
	cpuV3 cpuLayout = "V3"
)

// cpuOrder is the order in which version v (gate on or off) tries the
// pre-V4 layouts (FORMATS.md §3.1, "Read order and migration").
func cpuOrder(v Version, gateOn bool) []cpuLayout {
	switch {
	case v.Minor <= 17:
		return []cpuLayout{cpuV1}
	case v.Minor <= 35:
		return []cpuLayout{cpuV1, cpuV2}
	case v.Minor == 36 && !gateOn:
		return []cpuLayout{cpuV2, cpuV1}
	case v.Minor == 36:
		return []cpuLayout{cpuV3, cpuV2, cpuV1}
	default: // 1.37 after its V4 attempt
		return []cpuLayout{cpuV3, cpuV2}
	}
}

// cpuRules are the checksum rules version v accepts for layout l.
func cpuRules(l cpuLayout, v Version, gateOn bool) []string {
	switch l {
	case cpuV1:
		return []string{cpumanager.RuleV1}
	case cpuV2:
		if v.Minor >= 36 && !gateOn {
			// 1.36 and 1.37 with the gate off try the real name first.
			return []string{cpumanager.RuleV2Named, cpumanager.RuleV2, cpumanager.RuleV4Legacy}
		}
		return []string{cpumanager.RuleV2, cpumanager.RuleV4Legacy}
	case cpuV3:
		if v.Minor >= 37 {
			return []string{cpumanager.RuleV3Named, cpumanager.RuleV3}
		}
		return []string{cpumanager.RuleV3}
	}
	return nil
}

// cpuFile is what the ladder needs to know about a pre-V4 cpu file.
type cpuFile struct {
	rule       string // the rule that verified ("" when none)
	zero       bool   // stored checksum 0
	v1Entries  bool   // entries keyed by container ID (V2/V3 decoding fails)
	v2Entries  bool   // entries by pod (V1 decoding fails)
	podEntries []string
	baselines  bool
}

func (f cpuFile) decodes(l cpuLayout) bool {
	switch l {
	case cpuV1:
		return !f.v2Entries
	default:
		return !f.v1Entries
	}
}

func (f cpuFile) verifies(l cpuLayout, v Version, gateOn bool) bool {
	if f.zero {
		return l != cpuV3 // V1 and V2 skip a zero checksum in every version; V3 never does
	}
	return f.rule != "" && slices.Contains(cpuRules(l, v, gateOn), f.rule)
}

// decodeErr is kubelet's error when layout l cannot decode the file.
func (f cpuFile) decodeErr(l cpuLayout) string {
	if l == cpuV1 {
		return "json: cannot unmarshal object into Go struct field CPUManagerCheckpoint.entries of type string"
	}
	return "json: cannot unmarshal string into Go struct field CPUManagerCheckpointV2.entries of type map[string]string"
}

// walk runs the ladder of version v over the pre-V4 layouts.
func (f cpuFile) walk(v Version, gateOn bool) Cell {
	// Kubelet reports "corrupted" once a layout decoded; a decode error
	// only when none did.
	reason := ""
	for _, l := range cpuOrder(v, gateOn) {
		if !f.decodes(l) {
			if reason == "" {
				reason = f.decodeErr(l)
			}
			continue
		}
		if !f.verifies(l, v, gateOn) {
			reason = msgCorrupted
			continue
		}
		c := acceptLoss(string(l), f.lost(l))
		if l == cpuV1 && v.Minor >= 18 && f.v1Entries {
			c.Reason = "kubelet migrates V1 entries to pods at start: every container ID in the file must still be " +
				"known to the container runtime, else kubelet exits with \"containerID '<id>' not found in initial containers list\""
		}
		if f.zero {
			c.Reason = joinReason(c.Reason, "checksum 0 is not checked (zero-checksum bypass)")
		}
		return c
	}
	return reject(reason, true)
}

func (f cpuFile) lost(l cpuLayout) []string {
	var lost []string
	if l != cpuV3 && len(f.podEntries) > 0 {
		lost = append(lost, "pod-level CPU assignments of "+listSome(f.podEntries))
	}
	return lost
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

// cpuLadder returns the ladder for a cpu_manager_state file.
func cpuLadder(res check.Result) ladder {
	content, _ := res.Content.(*cpumanager.Content)
	if res.Format == cpumanager.FormatV4 && len(res.Checksums) == 2 && content != nil {
		return cpuV4Ladder(res, content)
	}
	if res.Verdict == check.Invalid || content == nil || len(res.Checksums) == 0 {
		return rejectAll(res, true)
	}
	ck := res.Checksums[0]
	f := cpuFile{
		zero:      ck.Stored == 0,
		v1Entries: len(content.ContainerEntries) > 0,
		v2Entries: len(content.Entries) > 0,
		baselines: len(content.Baselines) > 0,
	}
	if ck.OK {
		f.rule = ck.Rule
	}
	for _, p := range sortedKeys(content.PodEntries) {
		f.podEntries = append(f.podEntries, p+" ("+content.PodEntries[p]+")")
	}
	return func(v Version, gateOn bool) Cell {
		if v.Minor >= 37 && f.v1Entries {
			// 1.37 no longer knows V1 at all.
			return reject(f.decodeErr(cpuV2)+" (kubelet 1.37 no longer reads V1 files)", true)
		}
		return f.walk(v, gateOn)
	}
}

// cpuV4Ladder: 1.37 reads data; 1.18-1.36 read the embedded V2 block; 1.17
// tries V1 on the top-level fields.
func cpuV4Ladder(res check.Result, c *cpumanager.Content) ladder {
	legacy, data := res.Checksums[0], res.Checksums[1]
	dataOK := data.OK && res.Verdict != check.Invalid
	l := c.Legacy
	if l == nil {
		l = &cpumanager.Legacy{}
	}
	block := cpuFile{zero: legacy.Stored == 0, v2Entries: len(l.Entries) > 0}
	if legacy.OK {
		block.rule = legacy.Rule
	}
	lost := v4Loss(c)
	return func(v Version, gateOn bool) Cell {
		if v.Minor >= 37 {
			if dataOK {
				return accept("V4 data")
			}
			reason := fmt.Sprintf("%s (dataChecksum stored %d, computed %d)", msgCorrupted, data.Stored, data.Computed)
			if res.Verdict == check.Invalid && res.Err != nil {
				reason = "could not load v4 checkpoint: " + res.Err.Error()
			}
			return reject(reason+"; no fallback to the V2 block once data is set", true)
		}
		cell := block.walk(v, gateOn)
		if cell.Outcome == Accept || cell.Outcome == AcceptWithLoss {
			cell.ReadsAs = "embedded " + cell.ReadsAs + " block"
			if cell.ReadsAs == "embedded V1 block" {
				cell.ReadsAs = "top-level fields as V1"
			}
			if len(lost) > 0 {
				cell.Outcome, cell.Lost = AcceptWithLoss, append(cell.Lost, lost...)
			}
			if w := gapWarning(res); w != "" {
				cell.Reason = joinReason(cell.Reason, w)
				// Read, but the static policy's validation then stops
				// kubelet: as fatal as a rejection.
				cell.Fatal = l.PolicyName == "static"
			}
		}
		return cell
	}
}

// v4Loss lists what a reader of the embedded V2 block does not get.
func v4Loss(c *cpumanager.Content) []string {
	var lost []string
	if len(c.PodEntries) > 0 {
		var ps []string
		for _, p := range sortedKeys(c.PodEntries) {
			ps = append(ps, p+" ("+c.PodEntries[p]+")")
		}
		lost = append(lost, "pod-level CPU assignments of "+listSome(ps))
	}
	if len(c.Baselines) > 0 {
		lost = append(lost, fmt.Sprintf("baseline cpusets of %d pods (in-place resize)", len(c.Baselines)))
	}
	if l := c.Legacy; l != nil {
		var diffs []string
		if l.PolicyName != c.PolicyName {
			diffs = append(diffs, fmt.Sprintf("policy %q instead of %q", l.PolicyName, c.PolicyName))
		}
		if l.DefaultCPUSet != c.DefaultCPUSet && len(c.PodEntries) == 0 {
			diffs = append(diffs, fmt.Sprintf("default set %q instead of %q", l.DefaultCPUSet, c.DefaultCPUSet))
		}
		if !sameEntries(l.Entries, c.Entries) {
			diffs = append(diffs, "container entries of the V2 block instead of those in data")
		}
		if len(diffs) > 0 {
			lost = append(lost, "the state in data: the V2 block differs ("+strings.Join(diffs, ", ")+")")
		}
	}
	return lost
}

// gapWarning repeats the cpumanager finding that CPUs would be missing for
// a reader of the embedded block (B04: pod-level CPUs in neither the
// default set nor any container entry).
func gapWarning(res check.Result) string {
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "as kubelet 1.35 and 1.36 read it: ") {
			return strings.TrimPrefix(n, "as kubelet 1.35 and 1.36 read it: ") +
				" (the static policy's state validation then refuses to start)"
		}
	}
	return ""
}

func sameEntries(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for pod, ca := range a {
		cb, ok := b[pod]
		if !ok || len(ca) != len(cb) {
			return false
		}
		for k, v := range ca {
			if w, ok := cb[k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

// rejectAll is the ladder of a file no version can read.
func rejectAll(res check.Result, fatal bool) ladder {
	reason := "cannot be decoded"
	if res.Err != nil {
		reason = res.Err.Error()
	}
	return func(Version, bool) Cell { return reject(reason, fatal) }
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// maxListed bounds the items a cell lists one by one.
const maxListed = 5

// listSome joins up to maxListed items and says how many more there are.
func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}
