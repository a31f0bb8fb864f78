// Package compat answers, for one checkpoint file, which kubelet versions
// (1.17 to 1.37) accept it, under each setting of the feature gates that
// change how kubelet reads that kind of file, and why the others reject it.
//
// It follows the read ladders of FORMATS.md §3: the order in which each
// kubelet version tries the layouts of a kind, which checksum variants
// (type-name replacements) it accepts, where it skips a zero checksum, and
// when it reads a file but silently drops part of it. It never reads a
// file's bytes twice in different ways from the format packages: the
// verdicts, layouts and checksum rules come from their Examine.
//
// The rules, in order, for each (kubelet version, gate setting):
//
//  1. A version that does not read this kind of file at all (no memory
//     manager before 1.21, no DRA checkpoint before 1.27, dockershim removed
//     in 1.24, a file name that version does not use, a gate that is off) is
//     NotRead.
//  2. Otherwise the version's ladder is walked: the first layout that
//     decodes and whose checksum that version accepts wins (Accept).
//  3. When the winning layout cannot hold everything the file holds
//     (pod-level entries read through an older block, fields a version does
//     not know), the outcome is AcceptWithLoss and Lost says what.
//  4. When no layout wins, the outcome is Reject with kubelet's reason, and
//     Fatal says whether kubelet then refuses to start (the device manager
//     and dockershim carry on without the state instead).
//
// Check never panics, never prints and never exits.
package compat

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// The range of kubelet minor versions the matrix covers.
const (
	OldestMinor = 17
	NewestMinor = 37
)

// Version is a kubelet release line, 1.Minor.
type Version struct {
	Minor int
}

// V returns version 1.minor.
func V(minor int) Version { return Version{Minor: minor} }

// String returns "1.<minor>".
func (v Version) String() string { return "1." + strconv.Itoa(v.Minor) }

// MarshalText writes the version as "1.<minor>".
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// ParseVersion parses "1.35", "v1.35" or "1.35.2" (the patch is ignored);
// the numbers are plain decimals ("1.035" fails). The version must be
// within OldestMinor..NewestMinor; the error wraps ErrVersion.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "1" {
		return Version{}, fmt.Errorf("%w: %q (want 1.%d to 1.%d, e.g. 1.35)", ErrVersion, s, OldestMinor, NewestMinor)
	}
	// Release numbers are plain decimals: "1.037" or "1.+37" is a typo,
	// not 1.37.
	m, err := strconv.Atoi(parts[1])
	if err != nil || !plainNumber(parts[1]) {
		return Version{}, fmt.Errorf("%w: %q: minor %q is not a release number (e.g. 1.35)", ErrVersion, s, parts[1])
	}
	if len(parts) == 3 && !plainNumber(parts[2]) {
		return Version{}, fmt.Errorf("%w: %q: patch %q is not a release number (e.g. 1.35.2)", ErrVersion, s, parts[2])
	}
	if m < OldestMinor || m > NewestMinor {
		return Version{}, fmt.Errorf("%w: %q is outside 1.%d to 1.%d", ErrVersion, s, OldestMinor, NewestMinor)
	}
	return V(m), nil
}

// plainNumber reports whether s is a decimal number without sign or
// leading zero.
func plainNumber(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Versions returns every version the matrix covers, oldest first.
func Versions() []Version {
	var vs []Version
	for m := OldestMinor; m <= NewestMinor; m++ {
		vs = append(vs, V(m))
	}
	return vs
}

// Gate is a kubelet feature gate that changes how a checkpoint is read.
type Gate string

// The gates that matter to checkpoint reading.
const (
	// PodLevelResourceManagers (1.36+, off by default) makes the cpu and
	// memory managers read and write pod-level entries (cpu V3, memory V2).
	PodLevelResourceManagers Gate = "PodLevelResourceManagers"
	// InPlacePodVerticalScaling (1.27+, on by default from 1.33) enables the
	// pod resource checkpoints (pod_status_manager_state,
	// allocated_pods_state, actuated_pods_state).
	InPlacePodVerticalScaling Gate = "InPlacePodVerticalScaling"
	// DynamicResourceAllocation (1.26+, on by default from 1.34) enables the
	// DRA manager and its dra_manager_state.
	DynamicResourceAllocation Gate = "DynamicResourceAllocation"
)

// gateInfo says from which version a gate exists and from which it is on
// by default (0: never by default within the matrix).
var gateInfo = map[Gate]struct{ since, onSince int }{
	PodLevelResourceManagers:  {36, 0},
	InPlacePodVerticalScaling: {27, 33},
	DynamicResourceAllocation: {27, 34}, // exists from 1.26, but 1.26 keeps no checkpoint
}

// GateDefault reports whether g exists in version v and whether it is on by
// default there.
func GateDefault(g Gate, v Version) (on, exists bool) {
	gi, ok := gateInfo[g]
	if !ok || v.Minor < gi.since {
		return false, false
	}
	return gi.onSince != 0 && v.Minor >= gi.onSince, true
}

// Gates are feature gate settings; a gate not in the map has its default.
type Gates map[Gate]bool

// ParseGates parses kubelet's --feature-gates syntax, "A=true,B=false".
// Only the gates this package knows are accepted; the error wraps
// ErrGate.
func ParseGates(s string) (Gates, error) {
	g := Gates{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %q is not NAME=true|false", ErrGate, kv)
		}
		gate := Gate(strings.TrimSpace(k))
		if _, known := gateInfo[gate]; !known {
			return nil, fmt.Errorf("%w: unknown gate %q (known: %s, %s, %s)", ErrGate, k,
				PodLevelResourceManagers, InPlacePodVerticalScaling, DynamicResourceAllocation)
		}
		on, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrGate, kv, err)
		}
		g[gate] = on
	}
	return g, nil
}

// On reports whether g is on in version v under these settings (its
// default when unset; false when g does not exist in v).
func (gs Gates) On(g Gate, v Version) bool {
	def, exists := GateDefault(g, v)
	if !exists {
		return false
	}
	if on, set := gs[g]; set {
		return on
	}
	return def
}

// Outcome is what one kubelet version does with the file.
type Outcome string

// The outcomes.
const (
	// Accept: the version reads the file and restores all of it.
	Accept Outcome = "accept"
	// AcceptWithLoss: the version reads the file but silently drops part
	// of the state (Cell.Lost says what).
	AcceptWithLoss Outcome = "accept-with-loss"
	// Reject: the version fails to read the file (Cell.Reason says why;
	// Cell.Fatal whether kubelet then refuses to start).
	Reject Outcome = "reject"
	// NotRead: the version does not read this file at all.
	NotRead Outcome = "not-read"
)

// Cell is the answer for one kubelet version under one gate setting.
type Cell struct {
	// Kubelet is the version.
	Kubelet Version `json:"kubelet"`
	// Gate is the feature gate this row depends on ("" when none does in
	// this version); GateOn is its setting and GateDefault whether that is
	// the version's default.
	Gate        Gate `json:"gate,omitempty"`
	GateOn      bool `json:"gateOn,omitempty"`
	GateDefault bool `json:"gateDefault,omitempty"`
	// Outcome is what the version does.
	Outcome Outcome `json:"outcome"`
	// ReadsAs names the layout the version reads the file as, when it
	// reads it.
	ReadsAs string `json:"readsAs,omitempty"`
	// Reason explains a rejection (kubelet's words where known) or adds a
	// condition to an acceptance.
	Reason string `json:"reason,omitempty"`
	// Lost lists what an AcceptWithLoss drops.
	Lost []string `json:"lost,omitempty"`
	// Fatal is set on a Reject that stops kubelet from starting, and on an
	// AcceptWithLoss after which kubelet's policy refuses the state it read
	// and stops (CPUs a V4 file's pod-level entries hold, invisible to the
	// static policy of a kubelet that reads the embedded V2 block).
	Fatal bool `json:"fatal,omitempty"`
}

// GateLabel describes the cell's gate setting for people: "-" when no gate
// applies, else "Name=on" or "Name=off", with " (default)" when it is the
// default.
func (c Cell) GateLabel() string {
	if c.Gate == "" {
		return "-"
	}
	s := string(c.Gate) + "=off"
	if c.GateOn {
		s = string(c.Gate) + "=on"
	}
	if c.GateDefault {
		s += " (default)"
	}
	return s
}

// Report is the compatibility of one file.
type Report struct {
	// Path is the file, as given.
	Path string `json:"path"`
	// Kind, Format, Verdict and Description are the file's, from
	// kubelet.Examine.
	Kind        check.Kind    `json:"kind"`
	Format      string        `json:"format"`
	Verdict     check.Verdict `json:"verdict"`
	Description string        `json:"description,omitempty"`
	// Gate is the feature gate that changes how this kind is read ("" when
	// none does).
	Gate Gate `json:"gate,omitempty"`
	// Cells lists every version, oldest first; a version where Gate exists
	// has two cells, gate off then on.
	Cells []Cell `json:"cells"`
	// Notes are findings that hold for every version.
	Notes []string `json:"notes,omitempty"`
}

// The errors of this package, for errors.Is.
var (
	// ErrVersion: a kubelet version that does not parse or is out of range.
	ErrVersion = errors.New("bad kubelet version")
	// ErrGate: a feature gate setting that does not parse.
	ErrGate = errors.New("bad feature gate setting")
)

// ladder computes the cell for one version with the kind's gate on or off
// (gateOn is false when the gate does not exist in v).
type ladder func(v Version, gateOn bool) Cell

// Check examines data (path is a hint for the kind and, for pod resource
// checkpoints, decides which file kubelet would read it as) and returns the
// compatibility matrix.
func Check(path string, data []byte) Report {
	res := kubelet.Examine(path, data)
	return FromResult(path, data, res)
}

// FromResult is Check for a file already examined: res must be
// kubelet.Examine(path, data).
func FromResult(path string, data []byte, res check.Result) Report {
	r := Report{Path: path, Kind: res.Kind, Format: res.Format, Verdict: res.Verdict, Description: res.Description,
		Cells: []Cell{}}
	var lad ladder
	var consequence string
	switch res.Kind {
	case check.KindCPU:
		r.Gate, lad, consequence = PodLevelResourceManagers, cpuLadder(res), cpuExit
	case check.KindMemory:
		r.Gate, lad, consequence = PodLevelResourceManagers, memoryLadder(res), memExit
	case check.KindDevice:
		lad, consequence = deviceLadder(res), deviceCarryOn
	case check.KindDRA:
		r.Gate, lad, consequence = DynamicResourceAllocation, draLadder(res, data), draExit
	case check.KindAllocation:
		r.Gate, lad, consequence = InPlacePodVerticalScaling, allocationLadder(res, filepath.Base(path)), allocExit
	case check.KindDockershim:
		lad, consequence = dockershimLadder(res), dockershimDeletes
	default:
		r.Notes = append(r.Notes, "not a kubelet checkpoint: no kubelet version reads it")
		return r
	}
	r.Notes = append(r.Notes, consequence)
	for _, v := range Versions() {
		def, exists := GateDefault(r.Gate, v)
		if r.Gate == "" || !exists {
			c := lad(v, false)
			c.Kubelet = v
			r.Cells = append(r.Cells, c)
			continue
		}
		for _, on := range []bool{false, true} {
			c := lad(v, on)
			c.Kubelet, c.Gate, c.GateOn, c.GateDefault = v, r.Gate, on, on == def
			r.Cells = append(r.Cells, c)
		}
	}
	return r
}

// For returns the cells of version v (one, or two when the kind's gate
// exists in v).
func (r Report) For(v Version) []Cell {
	var out []Cell
	for _, c := range r.Cells {
		if c.Kubelet == v {
			out = append(out, c)
		}
	}
	return out
}

// Lookup returns the cell of version v under gates (unset gates take their
// defaults).
func (r Report) Lookup(v Version, gates Gates) (Cell, bool) {
	for _, c := range r.For(v) {
		if c.Gate == "" || c.GateOn == gates.On(c.Gate, v) {
			return c, true
		}
	}
	return Cell{}, false
}

// Range is a run of consecutive versions, under one gate setting, whose
// cells are the same.
type Range struct {
	From, To Version
	Cell
}

// Versions returns "1.18" or "1.18-1.35".
func (rg Range) Versions() string {
	if rg.From == rg.To {
		return rg.From.String()
	}
	return rg.From.String() + "-" + rg.To.String()
}

// Ranges groups the cells for display: consecutive versions with the same
// gate setting and the same answer form one range. Ranges are ordered by
// first version, then gate off before on.
func (r Report) Ranges() []Range {
	var out []Range
	open := map[string]int{} // gate key -> index of the range still open
	for _, c := range r.Cells {
		key := c.GateLabel()
		if i, ok := open[key]; ok && out[i].To.Minor == c.Kubelet.Minor-1 && sameAnswer(out[i].Cell, c) {
			out[i].To = c.Kubelet
			continue
		}
		out = append(out, Range{From: c.Kubelet, To: c.Kubelet, Cell: c})
		open[key] = len(out) - 1
	}
	slices.SortStableFunc(out, func(a, b Range) int {
		if a.From.Minor != b.From.Minor {
			return a.From.Minor - b.From.Minor
		}
		if a.GateOn != b.GateOn {
			if a.GateOn {
				return 1
			}
			return -1
		}
		return 0
	})
	return out
}

func sameAnswer(a, b Cell) bool {
	return a.Gate == b.Gate && a.GateOn == b.GateOn && a.GateDefault == b.GateDefault && a.Outcome == b.Outcome &&
		a.ReadsAs == b.ReadsAs && a.Reason == b.Reason && a.Fatal == b.Fatal && slices.Equal(a.Lost, b.Lost)
}

// Summary says in one line which versions accept the file, e.g.
// "accepted by kubelet 1.37; accepted with loss by 1.18-1.36; rejected by
// 1.17". For each version it counts the cell with default gates, unless
// that cell does not read the file and the other setting does (DRA and pod
// resource checkpoints are read only with their gate on); GateNotes lists
// where the other setting changes the answer.
func (r Report) Summary() string {
	var acc, loss, rej []string
	for _, v := range Versions() {
		c, ok := r.reading(v)
		if !ok {
			continue
		}
		switch c.Outcome {
		case Accept:
			acc = append(acc, v.String())
		case AcceptWithLoss:
			loss = append(loss, v.String())
		case Reject:
			rej = append(rej, v.String())
		}
	}
	var parts []string
	if len(acc) > 0 {
		parts = append(parts, "accepted by kubelet "+strings.Join(mergeLabels(acc), ", "))
	}
	if len(loss) > 0 {
		parts = append(parts, "accepted with loss by "+strings.Join(mergeLabels(loss), ", "))
	}
	if len(rej) > 0 {
		parts = append(parts, "rejected by "+strings.Join(mergeLabels(rej), ", "))
	}
	if len(parts) == 0 {
		return "read by no kubelet version"
	}
	s := strings.Join(parts, "; ")
	if r.Gate != "" && r.Gate != PodLevelResourceManagers {
		s += " (where " + string(r.Gate) + " is on; with it off the file is not read)"
	}
	return s
}

// reading returns the cell Summary counts for v.
func (r Report) reading(v Version) (Cell, bool) {
	cells := r.For(v)
	var def, other *Cell
	for i := range cells {
		if cells[i].Gate == "" || cells[i].GateDefault {
			def = &cells[i]
		} else {
			other = &cells[i]
		}
	}
	switch {
	case def == nil:
		return Cell{}, false
	case def.Outcome == NotRead && other != nil && other.Outcome != NotRead:
		return *other, true
	}
	return *def, true
}

// GateNotes lists, per range of versions, where another setting of the
// report's gate gives another outcome than Summary counts, e.g.
// "PodLevelResourceManagers=on: 1.36-1.37 reject (checkpoint is corrupted)".
func (r Report) GateNotes() []string {
	var notes []string
	for _, rg := range r.Ranges() {
		if rg.Gate == "" || rg.Outcome == NotRead {
			continue
		}
		same := true // the counted cells give the same outcome
		for m := rg.From.Minor; m <= rg.To.Minor; m++ {
			if c, ok := r.reading(V(m)); !ok || c.Outcome != rg.Outcome {
				same = false
				break
			}
		}
		if same {
			continue
		}
		n := rg.GateLabel() + ": " + rg.Versions() + " " + string(rg.Outcome)
		if rg.Reason != "" {
			n += " (" + rg.Reason + ")"
		}
		notes = append(notes, n)
	}
	return notes
}

// mergeLabels joins adjacent version labels ("1.18-1.35", "1.36" ->
// "1.18-1.36").
func mergeLabels(labels []string) []string {
	type span struct{ from, to int }
	var spans []span
	for _, l := range labels {
		a, b, _ := strings.Cut(l, "-")
		from, _ := ParseVersion(a)
		to := from
		if b != "" {
			to, _ = ParseVersion(b)
		}
		if n := len(spans); n > 0 && spans[n-1].to+1 == from.Minor {
			spans[n-1].to = to.Minor
			continue
		}
		spans = append(spans, span{from.Minor, to.Minor})
	}
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = V(s.from).String()
		if s.to != s.from {
			out[i] += "-" + V(s.to).String()
		}
	}
	return out
}

// Table renders the ranges for people (ckpt compat, ckpt inspect).
func (r Report) Table() check.Table {
	t := check.Table{Title: "kubelet compatibility", Header: []string{"KUBELET", "GATE", "RESULT", "DETAIL"}}
	for _, rg := range r.Ranges() {
		detail := rg.ReadsAs
		if rg.Reason != "" {
			if detail != "" {
				detail += ": "
			}
			detail += rg.Reason
		}
		if len(rg.Lost) > 0 {
			detail += "; LOSES " + strings.Join(rg.Lost, "; ")
		}
		result := string(rg.Outcome)
		if rg.Fatal {
			result += " (kubelet exits)"
		}
		t.Rows = append(t.Rows, []string{rg.Versions(), rg.GateLabel(), result, detail})
	}
	return t
}

// cell helpers.

func accept(readsAs string) Cell { return Cell{Outcome: Accept, ReadsAs: readsAs} }

func acceptLoss(readsAs string, lost []string) Cell {
	if len(lost) == 0 {
		return accept(readsAs)
	}
	return Cell{Outcome: AcceptWithLoss, ReadsAs: readsAs, Lost: lost}
}

func reject(reason string, fatal bool) Cell {
	return Cell{Outcome: Reject, Reason: reason, Fatal: fatal}
}

func notRead(reason string) Cell { return Cell{Outcome: NotRead, Reason: reason} }
