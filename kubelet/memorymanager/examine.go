package memorymanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

const (
	what     = "memory manager checkpoint"
	whatData = "memory manager checkpoint data string"
)

// Descriptions per layout, with the kubelet versions that write and read it.
const (
	descV1 = "memory manager V1 (written by kubelet 1.21-1.36; read by 1.21-1.37)"
	descV2 = "memory manager V2 with pod-level entries (written by kubelet 1.36 with PodLevelResourceManagers; " +
		"read by 1.36 with that gate and by 1.37)"
	descV3 = "memory manager V3: data string + dataChecksum, with an embedded V1 block " +
		"(written by kubelet 1.37; 1.37 reads data, 1.35 and 1.36 read the V1 block)"
)

var ruleNotes = map[state.Rule]string{
	state.RuleV1Legacy: "V1 checksum under the type name MemoryManagerCheckpoint: accepted by kubelet 1.21-1.37",
	state.RuleV1Named: "V1 checksum under the type name MemoryManagerCheckpointV1: accepted only by kubelet 1.36 " +
		"with PodLevelResourceManagers off; others report it corrupted",
	state.RuleV2Legacy: "V2 checksum under the type name MemoryManagerCheckpoint, as kubelet 1.36 writes it: " +
		"accepted by 1.36 with PodLevelResourceManagers and by 1.37",
	state.RuleV3Data: "checksum of the data string: what kubelet 1.37 verifies",
	state.RuleV3Legacy: "V1 checksum of the embedded V1 block: what kubelet 1.35 and 1.36 verify " +
		"(accepted by 1.21-1.37 as V1)",
}

// Examine decodes a memory_manager_state file, tries every layout, verifies
// every checksum it carries and reports what it found; see the package
// documentation for the verdict rules. It never panics.
func Examine(data []byte) check.Result {
	e := &examiner{res: check.Result{Kind: check.KindMemory, Checksums: []check.Checksum{}}}
	e.run(data)
	return e.res
}

type examiner struct {
	res check.Result
}

func (e *examiner) invalid(format, desc string, err error) {
	e.res.Format, e.res.Description = format, desc
	e.res.Verdict = check.Invalid
	e.res.Err = err
}

func (e *examiner) run(data []byte) {
	var top map[string]json.RawMessage
	if err := check.DecodeJSON(what, data, &top); err != nil {
		e.invalid("", "", err)
		return
	}
	if top == nil {
		e.invalid("", "", check.ContentError(what, "the document is null, not an object"))
		return
	}
	v3 := state.NewV3()
	err3 := check.DecodeJSON(what, data, v3)
	// As for the cpu manager: no fallback once data or dataChecksum is set.
	if v3.Data != "" || v3.DataChecksum != 0 {
		e.examineV3(data, v3, err3)
		return
	}
	e.examineOld(data, top)
}

func newChecksum(rule state.Rule, cp any, stored checksum.Checksum) check.Checksum {
	text := state.Text(rule, cp)
	ck := check.Checksum{
		Field:      "checksum",
		Rule:       string(rule),
		Stored:     uint64(stored),
		Computed:   uint64(checksum.Sum([]byte(text))),
		HashedText: text,
		Note:       ruleNotes[rule],
	}
	ck.OK = ck.Stored == ck.Computed
	return ck
}

// --- V3 ---

func (e *examiner) examineV3(data []byte, v3 *state.MemoryManagerCheckpoint, err3 error) {
	e.res.Format, e.res.Description = FormatV3, descV3
	if err3 != nil {
		e.invalid(FormatV3, descV3, fmt.Errorf("memory manager V3: %w", err3))
		return
	}
	legacy := legacyChecksum(data, v3)
	dataCk := check.Checksum{
		Field:      "dataChecksum",
		Rule:       string(state.RuleV3Data),
		Stored:     uint64(v3.DataChecksum),
		Computed:   uint64(checksum.OfString(v3.Data)),
		HashedText: "(string)" + v3.Data,
		Note:       ruleNotes[state.RuleV3Data],
	}
	dataCk.OK = dataCk.Stored == dataCk.Computed
	e.res.Checksums = []check.Checksum{legacy, dataCk}

	var d state.MemoryManagerCheckpointData
	if err := check.DecodeJSON(whatData, []byte(v3.Data), &d); err != nil {
		e.invalid(FormatV3, descV3, fmt.Errorf("memory manager V3: kubelet 1.37 cannot load the data string "+
			"(there is no fallback once data or dataChecksum is set): %w", err))
		return
	}
	c := &Content{State: d, Legacy: &Legacy{
		PolicyName:   v3.PolicyName,
		MachineState: v3.MachineState,
		Entries:      v3.Entries,
	}}
	var failed []error
	if !dataCk.OK {
		failed = append(failed, fmt.Errorf("%w: stored %d, computed %d; kubelet 1.37 reports the checkpoint corrupted",
			ErrDataChecksum, dataCk.Stored, dataCk.Computed))
	}
	if !legacy.OK {
		who := "1.35 and 1.36 read this block and report the checkpoint corrupted"
		if legacy.Stored == 0 {
			// 1.36 reads a V1 block with checksum 0 without verifying it.
			who = "1.35 reads this block and reports the checkpoint corrupted (1.36 accepts a zero checksum here unverified)"
		}
		failed = append(failed, fmt.Errorf("%w: stored %d, computed %d; kubelet 1.37 reads only data, but kubelet %s",
			ErrLegacyChecksum, legacy.Stored, legacy.Computed, who))
	}
	e.res.Notes = append(e.res.Notes, legacyNotes(c)...)
	e.finish(c, FormatV3, failed)
}

// legacyChecksum checks V3's top-level checksum: the V1 legacy hash of the
// embedded block, or failing that a variant some 1.36/1.37 reader accepts.
// Unlike the cpu manager's, 0 is not tolerated: kubelet 1.35 has no bypass.
func legacyChecksum(data []byte, v3 *state.MemoryManagerCheckpoint) check.Checksum {
	v1 := &v3.MemoryManagerCheckpointV1
	ck := newChecksum(state.RuleV3Legacy, v1, v1.Checksum)
	if ck.OK {
		return ck
	}
	if ck.Stored == 0 {
		ck.Note = "checksum 0: kubelet 1.36 accepts it for V1, but 1.35 and older have no zero-checksum bypass " +
			"and report the checkpoint corrupted"
		return ck
	}
	alts := []check.Checksum{newChecksum(state.RuleV1Named, v1, v1.Checksum)}
	v2 := state.NewV2()
	if err := check.DecodeJSON(what, data, v2); err == nil {
		alts = append(alts, newChecksum(state.RuleV2Legacy, v2, v2.Checksum))
	}
	for _, alt := range alts {
		if alt.OK {
			alt.Note = "the embedded block verifies only as " + alt.Rule + ", not as V1: " +
				ruleNotes[state.Rule(alt.Rule)] + "; kubelet 1.35 reports it corrupted"
			return alt
		}
	}
	return ck
}

// --- V1, V2 ---

type candidate struct {
	format string
	rule   state.Rule
	cp     any
}

func (e *examiner) examineOld(data []byte, top map[string]json.RawMessage) {
	v1 := state.NewV1()
	err1 := check.DecodeJSON(what, data, v1)
	v2 := state.NewV2()
	err2 := check.DecodeJSON(what, data, v2)
	_, podKey := lookupFold(top, "podEntries")
	podLevel := err2 == nil && len(v2.PodEntries) > 0
	switch {
	case podKey && err2 != nil:
		e.invalid(FormatV2, descV2, fmt.Errorf("memory manager V2: %w", err2))
		return
	case err1 != nil:
		e.invalid(FormatV1, descV1, fmt.Errorf("memory manager V1: %w", err1))
		return
	}
	if _, ok := lookupFold(top, "machineState"); !ok {
		// Not a kubelet file at all if it lacks its main section; kubelet
		// would load it as an empty machine and then fail validation.
		e.invalid(FormatV1, descV1, check.ContentError(what, "no machineState section"))
		return
	}

	cands := []candidate{{FormatV1, state.RuleV1Legacy, v1}, {FormatV1, state.RuleV1Named, v1}}
	if err2 == nil {
		v2c := candidate{FormatV2, state.RuleV2Legacy, v2}
		if podKey {
			cands = append([]candidate{v2c}, cands...)
		} else {
			cands = append(cands, v2c)
		}
	}
	primary := cands[0]
	stored := v1.Checksum

	if stored == 0 {
		ck := newChecksum(state.RuleV1Legacy, v1, 0)
		if podLevel {
			ck = newChecksum(state.RuleV2Legacy, v2, 0)
			ck.Note = "checksum 0: V2 never accepts it; kubelet 1.37 falls back to V1, which accepts 0 since 1.36"
			e.res.Format, e.res.Description = FormatV2, descV2
			e.res.Checksums = []check.Checksum{ck}
			e.finish(contentOf(v2), FormatV2, []error{fmt.Errorf("%w: the V2 layout never accepts checksum 0, so "+
				"kubelet 1.37 loads the file through V1 and silently drops the pod-level entries of %d pods; "+
				"kubelet 1.35 and older reject it", ErrZeroChecksum, len(v2.PodEntries))})
			return
		}
		ck.Unverified = true
		ck.Note = "checksum 0: kubelet 1.36 and later skip the check for V1; kubelet 1.35 and older have no bypass " +
			"and report the checkpoint corrupted"
		e.res.Format, e.res.Description = FormatV1, descV1
		e.res.Checksums = []check.Checksum{ck}
		e.finish(contentOf(v1), FormatV1, nil)
		return
	}

	for _, c := range cands {
		ck := newChecksum(c.rule, c.cp, stored)
		if !ck.OK {
			continue
		}
		desc := descV1
		if c.format == FormatV2 {
			desc = descV2
		}
		e.res.Format, e.res.Description = c.format, desc
		e.res.Checksums = []check.Checksum{ck}
		e.finish(contentOf(c.cp), c.format, nil)
		return
	}

	desc := descV1
	if primary.format == FormatV2 {
		desc = descV2
	}
	pck := newChecksum(primary.rule, primary.cp, stored)
	e.res.Format, e.res.Description = primary.format, desc
	e.res.Checksums = []check.Checksum{pck}
	var others []string
	for _, c := range cands[1:] {
		others = append(others, fmt.Sprintf("%s computes %d", c.rule, newChecksum(c.rule, c.cp, stored).Computed))
	}
	e.finish(contentOf(primary.cp), primary.format, []error{fmt.Errorf("%w: stored %d, but %s computes %d (nor %s)",
		ErrChecksum, stored, primary.rule, pck.Computed, strings.Join(others, ", "))})
}

func contentOf(cp any) *Content {
	c := &Content{}
	switch v := cp.(type) {
	case *state.MemoryManagerCheckpointV1:
		c.PolicyName, c.MachineState, c.Entries = v.PolicyName, v.MachineState, v.Entries
	case *state.MemoryManagerCheckpointV2:
		c.PolicyName, c.MachineState, c.Entries, c.PodEntries = v.PolicyName, v.MachineState, v.Entries, v.PodEntries
	}
	return c
}

// finish sets the verdict and adds notes and tables.
func (e *examiner) finish(c *Content, format string, failed []error) {
	e.res.Content = c
	switch {
	case len(failed) > 0:
		e.res.Verdict = check.Corrupt
		e.res.Err = fmt.Errorf("memory manager %s: %w: %w", strings.ToUpper(format), check.ErrCorrupt, errors.Join(failed...))
	default:
		e.res.Verdict = check.Valid
		unverified := len(e.res.Checksums) > 0
		for _, ck := range e.res.Checksums {
			if ck.OK {
				unverified = false
			}
		}
		if unverified {
			e.res.Verdict = check.Unverified
		}
	}
	e.res.Notes = append(e.res.Notes, accountingNotes(&c.State)...)
	e.res.Tables = tables(c)
}

func lookupFold(top map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := top[key]; ok {
		return v, true
	}
	for k, v := range top {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
