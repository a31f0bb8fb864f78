package dra

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	s129 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv129/state"
	s130 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv130/state"
	smaster "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvmaster/state"
	snoh "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvnohandles/state"
)

// shape is one historical layout of the pre-1.31 DRA checkpoint. All share
// the JSON envelope {"version":"v1","entries":[...],"checksum":N} and differ
// in the Go types that kubelet dumped for the checksum.
type shape struct {
	format      string
	rule        string
	description string
	// decode decodes data into the shape's types and returns the hashed
	// text, the stored checksum and the content.
	decode func(data []byte) (text string, stored uint64, c *Content, err error)
}

var shapes = []shape{
	{format: FormatFNV130, rule: "fnv32a(spew *state.DRAManagerCheckpoint, 1.30 v1alpha2.ResourceHandle with StructuredData)",
		description: "DRA manager checkpoint, legacy fnv struct hash, kubelet 1.30 shape (ResourceHandle with StructuredData); " +
			"read only by kubelet 1.30",
		decode: func(data []byte) (string, uint64, *Content, error) {
			cp := s130.New()
			if err := check.DecodeJSON(what, data, cp); err != nil {
				return "", 0, nil, err
			}
			return cp.Text(), uint64(cp.Checksum), content130(cp), nil
		}},
	{format: FormatFNV129, rule: "fnv32a(spew *state.DRAManagerCheckpoint, <=1.29 v1alpha2.ResourceHandle{DriverName, Data})",
		description: "DRA manager checkpoint, legacy fnv struct hash, kubelet 1.29 shape (ResourceHandle{DriverName, Data}); " +
			"read only by kubelet <=1.29: kubelet 1.30 rejects it as corrupted (kubernetes#123552)",
		decode: func(data []byte) (string, uint64, *Content, error) {
			cp := s129.New()
			if err := check.DecodeJSON(what, data, cp); err != nil {
				return "", 0, nil, err
			}
			return cp.Text(), uint64(cp.Checksum), content129(cp), nil
		}},
	{format: FormatFNVNoHandles, rule: "fnv32a(spew *state.DRAManagerCheckpoint without ResourceHandles, type names replaced)",
		description: "DRA manager checkpoint, legacy fnv struct hash, oldest shape without ResourceHandles; " +
			"read by kubelet <=1.30 (1.28-1.30 through their verifyChecksumWithoutResourceHandles fallback)",
		decode: func(data []byte) (string, uint64, *Content, error) {
			cp := snoh.New()
			if err := check.DecodeJSON(what, data, cp); err != nil {
				return "", 0, nil, err
			}
			return cp.Text(), uint64(cp.Checksum), contentNoHandles(cp), nil
		}},
	{format: FormatFNVMaster, rule: "fnv32a(spew *state.DRAManagerCheckpoint, master July 2024 DriverState layout)",
		description: "DRA manager checkpoint, legacy fnv struct hash, DriverState layout of kubernetes master in July 2024; " +
			"never released, read by no kubelet release",
		decode: func(data []byte) (string, uint64, *Content, error) {
			cp := smaster.New()
			if err := check.DecodeJSON(what, data, cp); err != nil {
				return "", 0, nil, err
			}
			return cp.Text(), uint64(cp.Checksum), contentMaster(cp), nil
		}},
}

// notReadableNote is attached to every legacy file.
const notReadableNote = "legacy (pre-1.31) format: kubelet 1.31 and later cannot read it. They decode it as an empty " +
	"Data string with Checksum set to the old fnv value, fail the crc32 check with \"checkpoint is corrupted\" and, " +
	"with the DynamicResourceAllocation gate on, exit (kubernetes#127653)"

// examineLegacy tries every historical shape and reports the first that
// verifies; when none does, the most likely one with its stored and
// computed checksums.
func examineLegacy(data []byte) check.Result {
	res := check.Result{Kind: check.KindDRA, Checksums: []check.Checksum{}}
	type attempt struct {
		shape
		text     string
		stored   uint64
		computed uint64
		content  *Content
		err      error
	}
	var tries []attempt
	for _, s := range shapes {
		text, stored, c, err := s.decode(data)
		a := attempt{shape: s, text: text, stored: stored, content: c, err: err}
		if err == nil {
			a.computed = uint64(checksum.Sum([]byte(text)))
		}
		tries = append(tries, a)
	}
	pick := -1
	var alsoOK []string
	for i, a := range tries {
		if a.err == nil && a.stored == a.computed {
			if pick < 0 {
				pick = i
			} else {
				alsoOK = append(alsoOK, a.format)
			}
		}
	}
	verified := pick >= 0
	if !verified {
		pick = likelyShape(data, tries[0].err, tries[3].err)
	}
	a := tries[pick]
	res.Format, res.Description = a.format, a.description
	if a.err != nil {
		res.Verdict, res.Err = check.Invalid, a.err
		return res
	}
	cs := check.Checksum{Field: "checksum", Rule: a.rule, Stored: a.stored, Computed: a.computed, OK: verified,
		HashedText: a.text}
	if verified {
		cs.Note = "verified with the " + a.format + " shape"
		if len(alsoOK) > 0 {
			cs.Note += "; the content hashes the same under " + strings.Join(alsoOK, ", ") +
				" (no resource handles to tell the shapes apart)"
		}
	} else {
		var others []string
		for _, t := range tries {
			if t.err == nil && t.format != a.format {
				others = append(others, fmt.Sprintf("%s computes %d", t.format, t.computed))
			}
		}
		cs.Note = "no known shape verifies"
		if len(others) > 0 {
			cs.Note += " (" + strings.Join(others, ", ") + ")"
		}
	}
	res.Checksums = append(res.Checksums, cs)
	res.Content, res.Tables = a.content, tables(a.content)
	res.Notes = append(res.Notes, notReadableNote, summary(a.content))
	if verified {
		res.Verdict = check.Valid
		return res
	}
	res.Verdict = check.Corrupt
	res.Err = corruptErr(a.format, a.stored, a.computed, a.rule)
	return res
}

// likelyShape picks the shape a legacy file that verifies under none was
// most likely written in: the master DriverState layout when its claims
// carry DriverState, else the last released one (1.30). A shape whose
// decoding failed is picked only if all did.
func likelyShape(data []byte, err130, errMaster error) int {
	master := false
	if m, ok := check.Find(check.ScanObject(data), "entries"); ok && m.First == '[' {
		master = containsFold(m.Raw, `"DriverState"`)
	}
	switch {
	case master && errMaster == nil, master && err130 != nil:
		return 3
	default:
		return 0
	}
}
