package memorymanager

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

// formatOfKindVersion maps the manifest's kind_version to the Format
// Examine reports ("any" is a file that decodes as nothing).
var formatOfKindVersion = map[string]string{
	"memorymanager/v1": FormatV1,
	"memorymanager/v2": FormatV2,
	"memorymanager/v3": FormatV3,
	"any":              "",
}

// verdictOverride lists the vectors whose manifest "expect" (kubelet 1.37's
// GetCheckpoint) differs from ckpt's verdict by design (package rule 2).
var verdictOverride = map[string]struct {
	verdict check.Verdict
	is      error
	reason  string
}{
	"memorymanager/v3-valid.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234: kubelet 1.35/1.36 reject it"},
	"memorymanager/v3-valid-podentries.json": {check.Corrupt, ErrLegacyChecksum,
		"upstream unit-test literal with a bogus legacy checksum 1234: kubelet 1.35/1.36 reject it"},
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
	for _, e := range loadManifest(t, "memorymanager") {
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
			for _, ck := range res.Checksums {
				if ck.OK && !slices.Contains(e.ChecksumRulesThatVerify, ck.Rule) {
					t.Errorf("rule %q verifies, but the manifest lists only %v", ck.Rule, e.ChecksumRulesThatVerify)
				}
			}
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
