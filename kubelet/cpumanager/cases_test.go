package cpumanager

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

const casesDir = "../../testdata/cases"

func examineFile(t *testing.T, rel string) check.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return Examine(data)
}

func checksumWith(res check.Result, stored, computed uint64) bool {
	return slices.ContainsFunc(res.Checksums, func(c check.Checksum) bool {
		return c.Stored == stored && c.Computed == computed
	})
}

func hasNote(res check.Result, substr string) bool {
	return slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, substr) })
}

// TestCases checks the bug-report cases of testdata/cases (see each
// EXPECT.md).
func TestCases(t *testing.T) {
	tests := []struct {
		file     string
		reason   string
		format   string
		verdict  check.Verdict
		rule     string // rule of the checksum that verifies, if any
		stored   uint64 // with computed: a checksum entry that must exist
		computed uint64
		note     string
		problem  check.DecodeProblem
	}{
		{file: "B02-cpu-v1-legacy-checksum-typename/cpu_manager_state",
			reason: "a 1.17 V1 file is valid V1, not corrupted",
			format: FormatV1, verdict: check.Valid, rule: "cpu.v1(legacy-name)"},
		{file: "B02-cpu-v1-legacy-checksum-typename/checksum-vectors/v1-static-0-3.json",
			reason: "kubernetes#84703 checksum for 0-3",
			format: FormatV1, verdict: check.Valid, stored: 2479968155, computed: 2479968155},
		{file: "B02-cpu-v1-legacy-checksum-typename/checksum-vectors/v1-static-0,2-3.json",
			reason: "kubernetes#84703 checksum for 0,2-3",
			format: FormatV1, verdict: check.Valid, stored: 1104188325, computed: 1104188325},
		{file: "B04-cpu-format-version-skew/cpu_manager_state.v2-k118-k135",
			reason: "V2 as 1.18-1.35 hash it",
			format: FormatV2, verdict: check.Valid, rule: "cpu.v2(legacy-name)"},
		{file: "B04-cpu-format-version-skew/cpu_manager_state.v2-typename-v2",
			reason: "V2 hashed under CPUManagerCheckpointV2: valid, with the readers that reject it named",
			format: FormatV2, verdict: check.Valid, rule: "cpu.v2(named CPUManagerCheckpointV2)"},
		{file: "B04-cpu-format-version-skew/cpu_manager_state.v4-k137",
			reason: "V4 from 1.37 with its legacy block",
			format: FormatV4, verdict: check.Valid, rule: "cpu.v4(embedded v2 legacy checksum)"},
		{file: "B04-cpu-format-version-skew/cpu_manager_state.v4-k137-podlvl",
			reason: "V4 with a pod-level entry that 1.35 cannot see: warn about the loss",
			format: FormatV4, verdict: check.Valid, rule: "cpu.v4(dataChecksum over data string)",
			note: "CPUs 3-4 are in neither the V2 block's default set nor any assignment"},
		{file: "B30-panic-and-unactionable-errors/valid-checksum-lost-cpu/cpu_manager_state",
			reason: "valid V1 whose CPU 1 is lost",
			format: FormatV1, verdict: check.Valid, rule: "cpu.v1(legacy-name)",
			note: "CPU 1 is in neither the default set nor any assignment"},
		{file: "B30-panic-and-unactionable-errors/bad-checksum/cpu_manager_state",
			reason:  "corrupt: found 2479968155, expected 1104188325 (the V1 hash of 0,2-3)",
			verdict: check.Corrupt, stored: 2479968155, computed: 1104188325},
		{file: "B27-empty-truncated-after-hard-reboot/empty/cpu_manager_state",
			reason: "durability failure: empty", verdict: check.Invalid, problem: check.ProblemEmpty},
		{file: "B27-empty-truncated-after-hard-reboot/empty/memory_manager_state",
			reason: "an empty memory file is no cpu file either, and says why", verdict: check.Invalid, problem: check.ProblemEmpty},
		{file: "B27-empty-truncated-after-hard-reboot/truncated/cpu_manager_state",
			reason: "durability failure: truncated", verdict: check.Invalid, problem: check.ProblemTruncated},
		{file: "B27-empty-truncated-after-hard-reboot/nul-filled/cpu_manager_state",
			reason: "durability failure: zero-filled", verdict: check.Invalid, problem: check.ProblemZeroFilled},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := examineFile(t, tt.file)
			if res.Verdict != tt.verdict {
				t.Fatalf("%s: verdict %s, want %s (err %v)", tt.reason, res.Verdict, tt.verdict, res.Err)
			}
			if tt.format != "" && res.Format != tt.format {
				t.Errorf("%s: format %q, want %q", tt.reason, res.Format, tt.format)
			}
			if tt.rule != "" && !slices.ContainsFunc(res.Checksums, func(c check.Checksum) bool { return c.OK && c.Rule == tt.rule }) {
				t.Errorf("%s: no verified checksum with rule %q in %+v", tt.reason, tt.rule, res.Checksums)
			}
			if tt.stored != 0 && !checksumWith(res, tt.stored, tt.computed) {
				t.Errorf("%s: no checksum stored=%d computed=%d in %+v", tt.reason, tt.stored, tt.computed, res.Checksums)
			}
			if tt.note != "" && !hasNote(res, tt.note) {
				t.Errorf("%s: no note containing %q in %q", tt.reason, tt.note, res.Notes)
			}
			if tt.problem != "" {
				var de *check.DecodeError
				if !errors.As(res.Err, &de) || de.Problem != tt.problem {
					t.Errorf("%s: err %v, want a DecodeError with problem %s", tt.reason, res.Err, tt.problem)
				}
			}
		})
	}
}
