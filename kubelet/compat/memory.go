package compat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// memFile is what the memory ladder needs to know about a pre-V3 file (or
// the embedded V1 block of a V3 file).
type memFile struct {
	rule       string // the rule that verified ("" when none)
	zero       bool
	podEntries []string
}

// memOrder is the order in which version v tries the pre-V3 layouts
// (FORMATS.md §3.2, "Read order").
func memOrder(v Version, gateOn bool) []string {
	if v.Minor == 36 && gateOn || v.Minor >= 37 {
		return []string{"V2", "V1"}
	}
	return []string{"V1"}
}

// memRules are the checksum rules version v accepts for a layout.
func memRules(layout string, v Version, gateOn bool) []string {
	if layout == "V2" {
		return []string{memorymanager.RuleV2}
	}
	if v.Minor == 36 && !gateOn {
		return []string{memorymanager.RuleV1Named, memorymanager.RuleV1, memorymanager.RuleV3Legacy}
	}
	return []string{memorymanager.RuleV1, memorymanager.RuleV3Legacy}
}

func (f memFile) walk(v Version, gateOn bool) Cell {
	for _, l := range memOrder(v, gateOn) {
		ok := f.rule != "" && slices.Contains(memRules(l, v, gateOn), f.rule)
		if f.zero {
			ok = l == "V1" && v.Minor >= 36 // only V1, only since 1.36
		}
		if !ok {
			continue
		}
		c := accept(l)
		if l == "V1" && len(f.podEntries) > 0 {
			c = acceptLoss(l, []string{"pod-level memory blocks of " + listSome(f.podEntries)})
		}
		if f.zero {
			c.Reason = "checksum 0 is accepted for V1 since kubelet 1.36"
		}
		return c
	}
	reason := msgCorrupted
	if f.zero && v.Minor <= 35 {
		reason += " (checksum 0: kubelet 1.35 and older have no zero-checksum bypass)"
	}
	return reject(reason, true)
}

// memoryLadder returns the ladder for a memory_manager_state file.
func memoryLadder(res check.Result) ladder {
	content, _ := res.Content.(*memorymanager.Content)
	notYet := func(v Version) (Cell, bool) {
		switch {
		case v.Minor <= 20:
			return notRead("kubelet before 1.21 has no memory manager"), true
		}
		return Cell{}, false
	}
	withAlpha := func(v Version, c Cell) Cell {
		if v.Minor == 21 && c.Outcome != NotRead {
			c.Reason = joinReason(c.Reason, "only read with the MemoryManager gate (alpha in 1.21)")
		}
		return c
	}
	if content == nil || len(res.Checksums) == 0 || (res.Verdict == check.Invalid && res.Format != memorymanager.FormatV3) {
		rej := rejectAll(res, true)
		return func(v Version, on bool) Cell {
			if c, ok := notYet(v); ok {
				return c
			}
			return withAlpha(v, rej(v, on))
		}
	}
	var pods []string
	for _, p := range sortedKeys(content.PodEntries) {
		pods = append(pods, p)
	}
	if res.Format == memorymanager.FormatV3 && len(res.Checksums) == 2 {
		legacy, data := res.Checksums[0], res.Checksums[1]
		block := memFile{zero: legacy.Stored == 0}
		if legacy.OK {
			block.rule = legacy.Rule
		}
		lost := memV3Loss(content)
		return func(v Version, on bool) Cell {
			if c, ok := notYet(v); ok {
				return c
			}
			if v.Minor >= 37 {
				if data.OK && res.Verdict != check.Invalid {
					return accept("V3 data")
				}
				reason := fmt.Sprintf("%s (dataChecksum stored %d, computed %d)", msgCorrupted, data.Stored, data.Computed)
				if res.Verdict == check.Invalid && res.Err != nil {
					reason = "could not load v3 checkpoint: " + res.Err.Error()
				}
				return reject(reason+"; no fallback to the V1 block once data is set", true)
			}
			c := block.walk(v, on)
			if c.Outcome == Accept || c.Outcome == AcceptWithLoss {
				c.ReadsAs = "embedded " + c.ReadsAs + " block"
				if len(lost) > 0 {
					c.Outcome, c.Lost = AcceptWithLoss, append(c.Lost, lost...)
				}
			}
			return withAlpha(v, c)
		}
	}
	ck := res.Checksums[0]
	f := memFile{zero: ck.Stored == 0, podEntries: pods}
	if ck.OK {
		f.rule = ck.Rule
	}
	return func(v Version, on bool) Cell {
		if c, ok := notYet(v); ok {
			return c
		}
		return withAlpha(v, f.walk(v, on))
	}
}

// memV3Loss lists what a reader of the embedded V1 block does not get.
func memV3Loss(c *memorymanager.Content) []string {
	var lost []string
	if len(c.PodEntries) > 0 {
		lost = append(lost, "pod-level memory blocks of "+listSome(sortedKeys(c.PodEntries)))
	}
	if l := c.Legacy; l != nil {
		var diffs []string
		if l.PolicyName != c.PolicyName {
			diffs = append(diffs, fmt.Sprintf("policy %q instead of %q", l.PolicyName, c.PolicyName))
		}
		if fmt.Sprint(l.Entries) != fmt.Sprint(c.Entries) && !(len(l.Entries) == 0 && len(c.Entries) == 0) {
			diffs = append(diffs, "container blocks of the V1 block instead of those in data")
		}
		if len(diffs) > 0 {
			lost = append(lost, "the state in data: the V1 block differs ("+strings.Join(diffs, ", ")+")")
		}
	}
	return lost
}
