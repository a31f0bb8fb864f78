package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

func newVerifyCmd() *cobra.Command {
	var output outputFlag
	cmd := &cobra.Command{
		Use:   "verify [-o text|json] PATH...",
		Short: "Check that checkpoint files decode and that every checksum verifies",
		Long: `verify examines each PATH. A file is examined whatever it holds. In a directory, verify examines
the files kubelet writes under its root directory (cpu_manager_state, memory_manager_state,
dra_manager_state, allocated_pods_state, actuated_pods_state, pod_status_manager_state,
device-plugins/kubelet_internal_checkpoint, dockershim sandbox/*) and any other regular
non-dot file that detects as a checkpoint; it skips the rest and reports leftover temporary
files of interrupted writes.

Verdicts: valid (decodes, every checksum verifies), unverified (decodes, carries no checksum
to check), corrupt (a checksum does not match), invalid (cannot be decoded as its kind: empty,
truncated, trailing bytes, wrong types, ...), unknown (not a kubelet checkpoint).

Exit status: 0 when every file is valid or unverified; 1 when any is corrupt, invalid, or
(when named explicitly) unknown; 2 for usage errors and unreadable paths.`,
		Example: `  # Verify every checkpoint under kubelet's root directory.
  ckpt verify /var/lib/kubelet

  # One JSON object per line, for automation.
  ckpt verify -o json /var/lib/kubelet/cpu_manager_state`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.OutOrStdout(), args, string(output))
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// record is one line of `verify -o json`.
type record struct {
	Path        string           `json:"path"`
	Kind        check.Kind       `json:"kind,omitempty"`
	Format      string           `json:"format"`
	Description string           `json:"description,omitempty"`
	Verdict     string           `json:"verdict,omitempty"`
	Checksums   []check.Checksum `json:"checksums"`
	Problem     string           `json:"problem,omitempty"`
	Error       string           `json:"error,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
	Size        int64            `json:"size"`
	Finding     string           `json:"finding,omitempty"`
	Detail      string           `json:"detail,omitempty"`
}

// verdictUnreadable marks a file that could not be read at all.
const verdictUnreadable = "unreadable"

func fileRecord(f kubelet.File) record {
	if f.ReadErr != nil {
		return record{Path: f.Path, Kind: check.KindUnknown, Format: "unknown", Verdict: verdictUnreadable,
			Checksums: []check.Checksum{}, Error: f.ReadErr.Error(), Size: f.Size}
	}
	r := f.Result
	if r.Format == "" {
		r.Format = "unknown"
	}
	rec := record{
		Path: f.Path, Kind: r.Kind, Format: r.Format, Description: r.Description, Verdict: string(r.Verdict),
		Checksums: r.Checksums, Notes: r.Notes, Size: f.Size,
	}
	if rec.Checksums == nil {
		rec.Checksums = []check.Checksum{}
	}
	// Keep the hashed text only where it explains a failure.
	cs := make([]check.Checksum, len(rec.Checksums))
	for i, c := range rec.Checksums {
		if c.OK || c.Unverified {
			c.HashedText = ""
		}
		cs[i] = c
	}
	rec.Checksums = cs
	if r.Err != nil {
		rec.Error = r.Err.Error()
		var de *check.DecodeError
		if errors.As(r.Err, &de) {
			rec.Problem = string(de.Problem)
		}
	}
	return rec
}

// findingRecord is a JSON line for something that is not a checkpoint; it
// has no verdict (its verdict field is "leftover", outside the five).
func findingRecord(f kubelet.Finding) record {
	return record{Path: f.Path, Kind: check.KindUnknown, Format: "temp-file", Verdict: "leftover", Checksums: []check.Checksum{},
		Finding: f.Finding, Detail: f.Detail, Size: f.Size}
}

// collect examines the paths: files explicitly, directories by scan.
// explicit reports whether a file was named on the command line.
func collect(paths []string) (files []kubelet.File, explicit map[string]bool, findings []kubelet.Finding, unreadable bool) {
	explicit = map[string]bool{}
	for _, p := range paths {
		info, err := os.Stat(p)
		switch {
		case err != nil:
			files = append(files, kubelet.File{Path: p, ReadErr: err})
			unreadable = true
		case info.IsDir():
			s, err := kubelet.ScanDir(p)
			if err != nil {
				files = append(files, kubelet.File{Path: p, ReadErr: err})
				unreadable = true
			}
			files = append(files, s.Files...)
			findings = append(findings, s.Findings...)
		default:
			f, err := kubelet.ExamineFile(p)
			if err != nil {
				unreadable = true
			}
			explicit[p] = true
			files = append(files, f)
		}
	}
	for _, f := range files {
		if f.ReadErr != nil {
			unreadable = true
		}
	}
	return files, explicit, findings, unreadable
}

func runVerify(w io.Writer, paths []string, output string) error {
	files, explicit, findings, unreadable := collect(paths)
	bad := false
	for _, f := range files {
		if f.ReadErr != nil {
			continue
		}
		switch f.Result.Verdict {
		case check.Corrupt, check.Invalid:
			bad = true
		case check.Unknown:
			if explicit[f.Path] {
				bad = true
			}
		}
	}
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, f := range files {
			if err := enc.Encode(fileRecord(f)); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
		}
		for _, f := range findings {
			if err := enc.Encode(findingRecord(f)); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
		}
	} else {
		tw := newTable(w)
		for _, f := range files {
			rec := fileRecord(f)
			tw.row("%s\t%s\t%s\t%s\t%s", rec.Verdict, orDash(string(rec.Kind)), orDash(rec.Format), printable(rec.Path), printable(reason(f)))
		}
		for _, f := range findings {
			tw.row("%s\t%s\t%s\t%s\t%s", "leftover", "-", "-", printable(f.Path), fmt.Sprintf("%s (%d bytes): %s", f.Finding, f.Size, f.Detail))
		}
		tw.flush()
		if len(files) == 0 && len(findings) == 0 {
			fmt.Fprintln(w, "no checkpoint files found")
		}
	}
	switch {
	case unreadable:
		return &exitError{code: exitUsage}
	case bad:
		return &exitError{code: exitBad}
	}
	return nil
}

// reason explains, on one line, why a file is not valid (empty for valid).
func reason(f kubelet.File) string {
	if f.ReadErr != nil {
		return f.ReadErr.Error()
	}
	r := f.Result
	var parts []string
	switch r.Verdict {
	case check.Valid:
		return ""
	case check.Unverified:
		for _, c := range r.Checksums {
			if c.Unverified {
				parts = append(parts, fmt.Sprintf("%s is 0: not verified (%s)", c.Field, c.Rule))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "carries no checksum")
		}
	default:
		if r.Err != nil {
			parts = append(parts, r.Err.Error())
		}
		for _, c := range r.Checksums {
			if !c.OK && !c.Unverified && !strings.Contains(strings.Join(parts, " "), fmt.Sprint(c.Computed)) {
				parts = append(parts, fmt.Sprintf("%s stored %d computed %d (%s)", c.Field, c.Stored, c.Computed, c.Rule))
			}
		}
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
