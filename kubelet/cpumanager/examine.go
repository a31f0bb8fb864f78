package cpumanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

const (
	what     = "cpu manager checkpoint"
	whatData = "cpu manager checkpoint data string"
)

// Descriptions per layout, with the kubelet versions that write and read it.
const (
	descV1 = "cpu manager V1: entries by container ID (written by kubelet <= 1.17; " +
		"read and migrated by 1.18-1.36; kubelet 1.37 cannot read it)"
	descV1FileBackend = "cpu manager V1 without checksum: the pre-1.18 file backend " +
		"(entries by container ID; read and migrated by 1.18-1.36; kubelet 1.37 cannot read it)"
	descV2          = "cpu manager V2 (written by kubelet 1.18-1.36; read by 1.18-1.37)"
	descV2Ambiguous = "cpu manager V2 or V1: no container entries, so the layouts look alike " +
		"(V2 written by kubelet 1.18-1.36, V1 by <= 1.17)"
	descV2FileBackend = "cpu manager V2 layout without checksum: the pre-1.18 file backend " +
		"(read by kubelet 1.18-1.37, which skip a zero checksum)"
	descV3 = "cpu manager V3 with pod-level entries (written by kubelet 1.36 with PodLevelResourceManagers; " +
		"read by 1.36 with that gate and by 1.37)"
	descV4 = "cpu manager V4: data string + dataChecksum, with an embedded V2 block " +
		"(written by kubelet 1.37; 1.37 reads data, 1.35 and 1.36 read the V2 block)"
)

// ruleNotes says which kubelet versions accept a checksum under each rule.
var ruleNotes = map[state.Rule]string{
	state.RuleV1Legacy: "V1 checksum under the type name CPUManagerCheckpoint: written by kubelet <= 1.17; " +
		"1.18-1.36 verify V1 under the same text",
	state.RuleV2Legacy: "V2 checksum under the type name CPUManagerCheckpoint: accepted by kubelet 1.18-1.37",
	state.RuleV2Named: "V2 checksum under the type name CPUManagerCheckpointV2: accepted only by kubelet 1.36 and " +
		"1.37 with PodLevelResourceManagers off; 1.35 and older, and 1.36/1.37 with the gate on, report it corrupted",
	state.RuleV3Legacy: "V3 checksum under the type name CPUManagerCheckpoint, as kubelet 1.36 writes it: " +
		"accepted by 1.36 with PodLevelResourceManagers and by 1.37",
	state.RuleV3Named: "V3 checksum under the type name CPUManagerCheckpointV3: accepted by kubelet 1.37 only",
	state.RuleV4Data:  "checksum of the data string: what kubelet 1.37 verifies",
	state.RuleV4Legacy: "V2 checksum of the embedded V2 block: what kubelet 1.35 and 1.36 verify " +
		"(accepted by 1.18-1.37 as V2)",
}

// Examine decodes a cpu_manager_state file, tries every layout, verifies
// every checksum it carries and reports what it found; see the package
// documentation for the verdict rules. It never panics.
func Examine(data []byte) check.Result {
	e := &examiner{res: check.Result{Kind: check.KindCPU, Checksums: []check.Checksum{}}}
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
	v4 := state.NewV4()
	err4 := check.DecodeJSON(what, data, v4)
	// Kubelet 1.37 falls back to older layouts only when the V4 attempt
	// found neither data nor dataChecksum (encoding/json keeps filling the
	// struct after a type error, so these fields are set even then).
	if v4.Data != "" || v4.DataChecksum != 0 {
		e.examineV4(data, v4, err4)
		return
	}
	e.examineOld(data, top)
}

// --- V4 ---

func (e *examiner) examineV4(data []byte, v4 *state.CPUManagerCheckpoint, err4 error) {
	e.res.Format, e.res.Description = FormatV4, descV4
	if err4 != nil {
		e.invalid(FormatV4, descV4, fmt.Errorf("cpu manager V4: %w", err4))
		return
	}
	legacy := e.legacyChecksum(data, v4)
	dataCk := check.Checksum{
		Field:      "dataChecksum",
		Rule:       string(state.RuleV4Data),
		Stored:     uint64(v4.DataChecksum),
		Computed:   uint64(checksum.OfString(v4.Data)),
		HashedText: "(string)" + v4.Data,
		Note:       ruleNotes[state.RuleV4Data],
	}
	dataCk.OK = dataCk.Stored == dataCk.Computed
	e.res.Checksums = []check.Checksum{legacy, dataCk}

	d := state.CPUManagerCheckpointData{}
	if err := check.DecodeJSON(whatData, []byte(v4.Data), &d); err != nil {
		e.invalid(FormatV4, descV4, fmt.Errorf("cpu manager V4: kubelet 1.37 cannot load the data string "+
			"(there is no fallback once data or dataChecksum is set): %w", err))
		return
	}
	content := &Content{
		State: stateFromData(&d),
		Legacy: &Legacy{
			PolicyName:    v4.PolicyName,
			DefaultCPUSet: v4.DefaultCPUSet,
			Entries:       cloneEntries(v4.Entries),
		},
	}
	e.res.Content = content
	// Kubelet parses pod-level cpusets while decoding the data string.
	if err := checkPodEntries(content.PodEntries, whatData); err != nil {
		e.invalid(FormatV4, descV4, fmt.Errorf("cpu manager V4: %w", err))
		e.res.Tables = tables(content, "")
		return
	}

	var failed []error
	if !dataCk.OK {
		failed = append(failed, fmt.Errorf("%w: stored %d, computed %d; "+
			"kubelet 1.37 reports the checkpoint corrupted", ErrDataChecksum, dataCk.Stored, dataCk.Computed))
	}
	if !legacy.OK && !legacy.Unverified {
		failed = append(failed, fmt.Errorf("%w: stored %d, computed %d; "+
			"kubelet 1.37 reads only data, but kubelet 1.35 and 1.36 read this block and report the checkpoint corrupted",
			ErrLegacyChecksum, legacy.Stored, legacy.Computed))
	}
	e.res.Notes = append(e.res.Notes, legacyNotes(content)...)
	e.finish(content, FormatV4, failed)
}

// legacyChecksum checks V4's top-level checksum: the V2 legacy hash of the
// embedded block, or failing that any variant a 1.36/1.37 reader accepts.
func (e *examiner) legacyChecksum(data []byte, v4 *state.CPUManagerCheckpoint) check.Checksum {
	v2 := &v4.CPUManagerCheckpointV2
	ck := newChecksum(state.RuleV4Legacy, v2, v2.Checksum)
	if ck.Stored == 0 {
		ck.Unverified = true
		ck.Note = "checksum 0: kubelet 1.35 and 1.36 skip the check of the V2 block (zero-checksum bypass); " +
			"kubelet 1.37 does not read it"
		return ck
	}
	if ck.OK {
		return ck
	}
	alts := []check.Checksum{newChecksum(state.RuleV2Named, v2, v2.Checksum)}
	if wire, err := decodeV3Wire(data); err == nil {
		if v3, err := buildV3(wire); err == nil {
			alts = append(alts,
				newChecksum(state.RuleV3Legacy, v3, v3.Checksum),
				newChecksum(state.RuleV3Named, v3, v3.Checksum))
		}
	}
	for _, alt := range alts {
		if alt.OK {
			alt.Note = "the embedded block verifies only as " + alt.Rule + ", not as V2: " +
				ruleNotes[state.Rule(alt.Rule)] + "; kubelet 1.35 reports it corrupted"
			return alt
		}
	}
	return ck
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

// --- V1, V2, V3 ---

// v3Wire is the V3 layout as JSON: pod-level cpusets as strings, parsed by
// buildV3 (kubelet parses them in PodEntry.UnmarshalJSON).
type v3Wire struct {
	PolicyName    string                        `json:"policyName"`
	DefaultCPUSet string                        `json:"defaultCpuSet"`
	Entries       map[string]map[string]string  `json:"entries,omitempty"`
	PodEntries    map[string]state.PodEntryJSON `json:"podEntries,omitempty"`
	Checksum      checksum.Checksum             `json:"checksum"`
}

func decodeV3Wire(data []byte) (*v3Wire, error) {
	w := &v3Wire{
		Entries:    make(map[string]map[string]string),
		PodEntries: make(map[string]state.PodEntryJSON),
	}
	if err := check.DecodeJSON(what, data, w); err != nil {
		return nil, err
	}
	return w, nil
}

func buildV3(w *v3Wire) (*state.CPUManagerCheckpointV3, error) {
	v3 := &state.CPUManagerCheckpointV3{
		PolicyName:    w.PolicyName,
		DefaultCPUSet: w.DefaultCPUSet,
		Entries:       w.Entries,
		Checksum:      w.Checksum,
	}
	if w.PodEntries != nil { // an explicit null stays nil, as in kubelet
		v3.PodEntries = make(state.PodCPUAssignments, len(w.PodEntries))
		for pod, pe := range w.PodEntries {
			cs, err := cpuset.Parse(pe.CPUSet)
			if err != nil {
				return nil, cpusetError(what, fmt.Sprintf("pod-level cpuset of pod %q", pod), err)
			}
			v3.PodEntries[pod] = state.PodEntry{CPUSet: cs}
		}
	}
	return v3, nil
}

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
	wire, err3 := decodeV3Wire(data)
	var v3 *state.CPUManagerCheckpointV3
	if err3 == nil {
		v3, err3 = buildV3(wire)
	}
	podLevel := rawNonEmpty(top, "podEntries")
	_, podKey := lookupFold(top, "podEntries")
	if podLevel && err3 != nil {
		// Kubelet 1.36/1.37 fail to decode V3; the V2 fallback would ignore
		// the pod entries, so the file cannot be read as what it is.
		e.invalid(FormatV3, descV3, fmt.Errorf("cpu manager V3: %w", err3))
		return
	}
	if err1 != nil && err2 != nil && err3 != nil {
		e.invalid(FormatV2, descV2, fmt.Errorf("cpu manager V2: %w", err2))
		return
	}
	_, hasChecksumKey := lookupFold(top, "checksum")

	var cands []candidate
	addV3 := func() {
		if v3 != nil {
			cands = append(cands, candidate{FormatV3, state.RuleV3Legacy, v3}, candidate{FormatV3, state.RuleV3Named, v3})
		}
	}
	if podLevel {
		addV3()
	}
	if err2 == nil {
		cands = append(cands, candidate{FormatV2, state.RuleV2Legacy, v2}, candidate{FormatV2, state.RuleV2Named, v2})
	}
	if err1 == nil {
		cands = append(cands, candidate{FormatV1, state.RuleV1Legacy, v1})
	}
	if !podLevel {
		addV3()
	}

	// The layout a mismatch is reported against: pod entries mean V3,
	// string-valued entries V1, otherwise V2; without any entries V1 and V2
	// look alike, and both are reported.
	primary := cands[0]
	ambiguous := false
	switch {
	case podLevel:
	case podKey && v3 != nil:
		primary = candidate{FormatV3, state.RuleV3Legacy, v3}
	case err2 != nil && err1 == nil:
		primary = candidate{FormatV1, state.RuleV1Legacy, v1}
	case err2 == nil && len(v2.Entries) == 0 && err1 == nil:
		ambiguous = true
	}
	content := contentOf(primary.cp, wire)
	desc := describe(primary.format, ambiguous, hasChecksumKey)

	stored := storedChecksum(primary.cp)
	if stored == 0 && (err1 == nil || err2 == nil) {
		// V1 and V2 readers skip a zero checksum (all versions); V3 has no
		// bypass, so a V3-looking file is read through V2.
		if primary.format == FormatV3 && !podLevel && err2 == nil {
			primary = candidate{FormatV2, state.RuleV2Legacy, v2}
			content = contentOf(v2, nil)
			desc = describe(FormatV2, ambiguous, hasChecksumKey)
		}
		ck := newChecksum(primary.rule, primary.cp, 0)
		ck.OK, ck.Unverified = false, true
		ck.Note = "checksum 0: kubelet skips the check for the V1 and V2 layouts (the pre-1.18 file backend wrote none)"
		if !hasChecksumKey {
			ck.Note = "no checksum key: written by the pre-1.18 file backend; kubelet treats it as 0 and skips the check"
		}
		e.res.Format, e.res.Description = primary.format, desc
		e.res.Checksums = []check.Checksum{ck}
		e.res.Content = content
		if podLevel {
			e.res.Checksums[0].Unverified = false
			e.finish(content, primary.format, []error{fmt.Errorf("%w: V3 has no zero-checksum bypass, so kubelet 1.37 "+
				"falls back to V2, whose bypass accepts the file and silently drops the pod-level entries of %d pods",
				ErrZeroChecksum, len(content.PodEntries))})
			return
		}
		e.finish(content, primary.format, nil)
		if !hasChecksumKey {
			e.res.Format = FormatFileBackend
		}
		return
	}

	for _, c := range cands {
		ck := newChecksum(c.rule, c.cp, stored)
		if !ck.OK {
			continue
		}
		content = contentOf(c.cp, wire)
		e.res.Format, e.res.Description = c.format, describe(c.format, false, true)
		e.res.Checksums = []check.Checksum{ck}
		e.res.Content = content
		e.finish(content, c.format, nil)
		return
	}

	// Nothing verifies.
	e.res.Format, e.res.Description = primary.format, desc
	e.res.Content = content
	pck := newChecksum(primary.rule, primary.cp, stored)
	e.res.Checksums = []check.Checksum{pck}
	if ambiguous {
		e.res.Checksums = append(e.res.Checksums, newChecksum(state.RuleV1Legacy, v1, stored))
	}
	var others []string
	for _, c := range cands {
		if c.rule == primary.rule || (ambiguous && c.rule == state.RuleV1Legacy) {
			continue
		}
		others = append(others, fmt.Sprintf("%s computes %d", c.rule, newChecksum(c.rule, c.cp, stored).Computed))
	}
	var parts []string
	for _, ck := range e.res.Checksums {
		parts = append(parts, fmt.Sprintf("%s computes %d", ck.Rule, ck.Computed))
	}
	msg := fmt.Sprintf("stored %d, but %s", stored, strings.Join(parts, ", "))
	if len(others) > 0 {
		msg += " (nor " + strings.Join(others, ", ") + ")"
	}
	e.finish(content, primary.format, []error{fmt.Errorf("%w: %s", ErrChecksum, msg)})
}

// finish sets the verdict from checksum failures, then the cpuset rule,
// and adds semantic notes and tables.
func (e *examiner) finish(c *Content, format string, failed []error) {
	cpuErr := checkRestoredCPUSets(c)
	holds := "the file decodes (it carries no checksum to verify)"
	for _, ck := range e.res.Checksums {
		if ck.OK {
			holds = "checksums hold"
		}
	}
	switch {
	case len(failed) > 0:
		e.res.Verdict = check.Corrupt
		e.res.Err = fmt.Errorf("cpu manager %s: %w: %w", strings.ToUpper(format), check.ErrCorrupt, errors.Join(failed...))
		if cpuErr != nil {
			e.res.Notes = append(e.res.Notes, "also: "+cpuErr.Error())
		}
	case cpuErr != nil && errors.Is(cpuErr, cpuset.ErrLimit):
		// Kubelet has no limit: it would try to allocate every id. Say
		// that the refusal is ckpt's, not kubelet's.
		e.res.Verdict = check.Invalid
		e.res.Err = fmt.Errorf("cpu manager %s: %s, but a cpuset is beyond what ckpt reads "+
			"(kubelet would try to allocate every CPU id in it): %w", strings.ToUpper(format), holds, cpuErr)
	case cpuErr != nil:
		e.res.Verdict = check.Invalid
		e.res.Err = fmt.Errorf("cpu manager %s: %s, but kubelet refuses to restore the state: %w",
			strings.ToUpper(format), holds, cpuErr)
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
	if format == FormatV1 {
		e.res.Notes = append(e.res.Notes, "kubelet 1.37 cannot read V1 files (a JSON type error, or \"checkpoint is "+
			"corrupted\" when there are no entries); kubelet 1.18-1.36 migrate V1 entries using the containers they find at start")
	}
	if cpuErr == nil {
		e.res.Notes = append(e.res.Notes, semanticNotes(c)...)
	}
	e.res.Tables = tables(c, format)
}

func storedChecksum(cp any) checksum.Checksum {
	switch c := cp.(type) {
	case *state.CPUManagerCheckpointV1:
		return c.Checksum
	case *state.CPUManagerCheckpointV2:
		return c.Checksum
	case *state.CPUManagerCheckpointV3:
		return c.Checksum
	}
	return 0
}

func contentOf(cp any, wire *v3Wire) *Content {
	c := &Content{}
	switch v := cp.(type) {
	case *state.CPUManagerCheckpointV1:
		c.PolicyName, c.DefaultCPUSet = v.PolicyName, v.DefaultCPUSet
		c.ContainerEntries = maps.Clone(v.Entries)
	case *state.CPUManagerCheckpointV2:
		c.PolicyName, c.DefaultCPUSet = v.PolicyName, v.DefaultCPUSet
		c.Entries = cloneEntries(v.Entries)
	case *state.CPUManagerCheckpointV3:
		c.PolicyName, c.DefaultCPUSet = v.PolicyName, v.DefaultCPUSet
		c.Entries = cloneEntries(v.Entries)
		if wire != nil && len(wire.PodEntries) > 0 {
			c.PodEntries = make(map[string]string, len(wire.PodEntries))
			for pod, pe := range wire.PodEntries {
				c.PodEntries[pod] = pe.CPUSet
			}
		}
	}
	if len(c.Entries) == 0 {
		c.Entries = nil
	}
	if len(c.ContainerEntries) == 0 {
		c.ContainerEntries = nil
	}
	return c
}

func describe(format string, ambiguous, hasChecksumKey bool) string {
	switch format {
	case FormatV1:
		if !hasChecksumKey {
			return descV1FileBackend
		}
		return descV1
	case FormatV2:
		if !hasChecksumKey {
			return descV2FileBackend
		}
		if ambiguous {
			return descV2Ambiguous
		}
		return descV2
	case FormatV3:
		return descV3
	}
	return descV4
}

// lookupFold finds a top-level key as encoding/json matches struct fields:
// case-insensitively.
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

// rawNonEmpty reports whether key holds something other than null or an
// empty object.
func rawNonEmpty(top map[string]json.RawMessage, key string) bool {
	raw, ok := lookupFold(top, key)
	if !ok {
		return false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return true // present but not an object: it will fail to decode
	}
	return len(m) > 0
}

// checkPodEntries parses pod-level cpusets.
func checkPodEntries(pods map[string]string, whatDoc string) error {
	for _, pod := range sortedKeys(pods) {
		if _, err := cpuset.Parse(pods[pod]); err != nil {
			return cpusetError(whatDoc, fmt.Sprintf("pod-level cpuset of pod %q", pod), err)
		}
	}
	return nil
}

// checkRestoredCPUSets parses every cpuset kubelet parses when it restores
// the state, in a stable order, and reports the first that fails with
// kubelet's wording.
func checkRestoredCPUSets(c *Content) error {
	if c.PolicyName != "none" && c.PolicyName != "static" {
		// Kubelet compares the file's policy with its configured one, which
		// is always "none" or "static": no configuration restores this file.
		return check.ContentError(what, "unknown CPU manager policy %q: kubelet's policy is \"none\" or \"static\", so no configuration can restore this state (%w)",
			c.PolicyName, ErrPolicy)
	}
	if _, err := cpuset.Parse(c.DefaultCPUSet); err != nil {
		return cpusetError(what, fmt.Sprintf("could not parse default CPU set %q", c.DefaultCPUSet), err)
	}
	for _, id := range sortedKeys(c.ContainerEntries) {
		if _, err := cpuset.Parse(c.ContainerEntries[id]); err != nil {
			return cpusetError(what, fmt.Sprintf("could not parse cpuset %q for container id %q",
				c.ContainerEntries[id], id), err)
		}
	}
	for _, pod := range sortedKeys(c.Entries) {
		for _, ctr := range sortedKeys(c.Entries[pod]) {
			set := c.Entries[pod][ctr]
			if _, err := cpuset.Parse(set); err != nil {
				return cpusetError(what, fmt.Sprintf("could not parse cpuset %q for container %q in pod %q",
					set, ctr, pod), err)
			}
		}
	}
	for _, pod := range sortedKeys(c.Baselines) {
		for _, ctr := range sortedKeys(c.Baselines[pod]) {
			set := c.Baselines[pod][ctr]
			if _, err := cpuset.Parse(set); err != nil {
				return cpusetError(what, fmt.Sprintf("could not parse baseline cpuset %q for container %q in pod %q",
					set, ctr, pod), err)
			}
		}
	}
	return nil
}

// cpusetError is a content DecodeError (wrapping check.ErrInvalid) that
// also wraps ErrCPUSet and the parse error.
func cpusetError(whatDoc, detail string, err error) *check.DecodeError {
	return &check.DecodeError{
		Problem: check.ProblemContent,
		What:    whatDoc,
		Offset:  -1,
		Detail:  detail,
		Err:     fmt.Errorf("%w: %w", ErrCPUSet, err),
	}
}
