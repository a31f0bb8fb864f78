package cpumanager

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

const vectorsDir = "../../testdata/kubelet-vectors"

// manifestEntry is the part of testdata/kubelet-vectors/manifest.json this
// package checks.
type manifestEntry struct {
	File                    string   `json:"file"`
	Consumer                string   `json:"consumer"`
	Expect                  string   `json:"expect"`
	KindVersion             string   `json:"kind_version"`
	HashInput               string   `json:"hash_input"`
	HashRule                string   `json:"hash_rule"`
	ChecksumRulesThatVerify []string `json:"checksum_rules_that_verify"`
}

func loadManifest(t *testing.T, consumer string) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []manifestEntry
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var out []manifestEntry
	for _, e := range all {
		if e.Consumer == consumer {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s entries in the manifest", consumer)
	}
	return out
}

// formatOfKindVersion maps the manifest's kind_version to the Format Examine
// reports. The pre-1.18 file backend wrote a v1 or v2 layout without a
// checksum key: Format "file-backend", the layout in Description.
var formatOfKindVersion = map[string]string{
	"cpumanager/v1":                        FormatV1,
	"cpumanager/v2":                        FormatV2,
	"cpumanager/v3":                        FormatV3,
	"cpumanager/v4":                        FormatV4,
	"cpumanager/file-backend(no checksum)": FormatFileBackend,
	"any":                                  "",
}

// verdictOverride lists the vectors whose manifest "expect" (what kubelet
// 1.37's GetCheckpoint says) differs from ckpt's verdict by design. The
// package documentation states the rules; each entry says which applies.
var verdictOverride = map[string]struct {
	verdict check.Verdict
	is      error
	reason  string
}{
	"cpumanager/v2-unparsable-default-cpuset.json": {check.Invalid, ErrCPUSet,
		"checksum holds, but kubelet cannot parse the default set and refuses to start (rule 4)"},
	"cpumanager/v2-unparsable-entry.json": {check.Invalid, ErrCPUSet,
		"checksum holds, but kubelet cannot parse a container cpuset and refuses to start (rule 4)"},
	"cpumanager/v4-data-unparsable-default.json": {check.Invalid, ErrCPUSet,
		"both checksums hold, but the data's default set does not parse (rule 4)"},
	"cpumanager/v4-data-unparsable-entry.json": {check.Invalid, ErrCPUSet,
		"both checksums hold, but a container cpuset in data does not parse (rule 4)"},
	"cpumanager/v4-default-cpuset.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234: kubelet 1.35/1.36 reject it (rule 2)"},
	"cpumanager/v4-valid-entries.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234 (rule 2)"},
	"cpumanager/v4-data-unknown-field.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234 (rule 2)"},
	"cpumanager/v4-podentries-baselines.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234 (rule 2)"},
}

func expectedVerdicts(expect string) []check.Verdict {
	switch expect {
	case "valid":
		return []check.Verdict{check.Valid, check.Unverified}
	case "corrupt":
		return []check.Verdict{check.Corrupt}
	case "error":
		return []check.Verdict{check.Invalid}
	}
	return nil
}

func TestManifestVectors(t *testing.T) {
	for _, e := range loadManifest(t, "cpumanager") {
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(vectorsDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			res := Examine(data)

			want := expectedVerdicts(e.Expect)
			if o, ok := verdictOverride[e.File]; ok {
				want = []check.Verdict{o.verdict}
				if !errors.Is(res.Err, o.is) {
					t.Errorf("override (%s): Err = %v, want it to wrap %v", o.reason, res.Err, o.is)
				}
			}
			if !slices.Contains(want, res.Verdict) {
				t.Errorf("verdict = %s, want one of %v (manifest expect %q); err: %v", res.Verdict, want, e.Expect, res.Err)
			}
			switch res.Verdict {
			case check.Valid, check.Unverified:
				if res.Err != nil {
					t.Errorf("verdict %s with Err %v", res.Verdict, res.Err)
				}
			case check.Corrupt:
				if !errors.Is(res.Err, check.ErrCorrupt) {
					t.Errorf("corrupt Err %v does not wrap check.ErrCorrupt", res.Err)
				}
			case check.Invalid:
				if !errors.Is(res.Err, check.ErrInvalid) {
					t.Errorf("invalid Err %v does not wrap check.ErrInvalid", res.Err)
				}
			}

			wantFormat, ok := formatOfKindVersion[e.KindVersion]
			if !ok {
				t.Fatalf("no format mapping for kind_version %q", e.KindVersion)
			}
			if res.Format != wantFormat {
				t.Errorf("format = %q, want %q (kind_version %q)", res.Format, wantFormat, e.KindVersion)
			}

			// Every rule that verifies must be one the manifest lists.
			for _, ck := range res.Checksums {
				if ck.OK && !slices.Contains(e.ChecksumRulesThatVerify, ck.Rule) {
					t.Errorf("rule %q verifies, but the manifest lists only %v", ck.Rule, e.ChecksumRulesThatVerify)
				}
			}
			// The hashed text must be kubelet's, byte for byte.
			if e.HashInput != "" {
				found := false
				for _, ck := range res.Checksums {
					if ck.Rule == e.HashRule {
						found = true
						if ck.HashedText != e.HashInput {
							t.Errorf("hashed text for %s:\n got %s\nwant %s", ck.Rule, ck.HashedText, e.HashInput)
						}
					}
				}
				if !found {
					t.Errorf("no checksum with rule %q (hash_rule) in %+v", e.HashRule, res.Checksums)
				}
			}
		})
	}
}
