package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/diff"
)

func init() { extraCommands = append(extraCommands, newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var output outputFlag
	cmd := &cobra.Command{
		Use:   "diff [-o text|json] A B",
		Short: "Show what differs between two checkpoints of one kind, by meaning",
		Long: `diff compares two checkpoint files of the same kind by what they hold, not by their text: the
entries added, removed and changed (per pod and container, claim, device allocation), the policy,
the default CPU set (with the CPUs that moved), and each NUMA node's memory. Files in different
format versions holding the same state are equal; key order, white space and checksums do not
count. A file whose checksum fails is still compared (its verdict is shown).

Two JSON files that are no kubelet checkpoint (a DRA driver's own checkpoint payloads) are
compared leaf by leaf; a string holding JSON is compared as that document, and changes that only
add or remove an empty value are marked, which tells a re-marshal with another omitempty from a
real change.

Exit status: 0 when the files hold the same state, 1 when they differ, 2 when they cannot be
compared (unreadable, not decodable, or of different kinds).`,
		Example: `  # What did kubelet change between the backup and now?
  ckpt diff /var/lib/ckpt-backup/cpu_manager_state.20260101T120000Z /var/lib/kubelet/cpu_manager_state

  # For automation:
  ckpt diff -o json before/memory_manager_state after/memory_manager_state`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, _, err := kubelet.ReadFile(args[0], 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			b, _, err := kubelet.ReadFile(args[1], 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			d, err := diff.Compare(args[0], a, args[1], b)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(d); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else {
				printDiff(w, d)
			}
			if !d.Equal() {
				return &exitError{code: exitBad}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func printDiff(w io.Writer, d *diff.Diff) {
	fmt.Fprintf(w, "--- %s (%s %s, %s)\n", d.A.Path, d.Kind, orDash(d.A.Format), orDash(string(d.A.Verdict)))
	fmt.Fprintf(w, "+++ %s (%s %s, %s)\n", d.B.Path, d.Kind, orDash(d.B.Format), orDash(string(d.B.Verdict)))
	if d.Equal() {
		fmt.Fprintln(w, "same state")
		return
	}
	section := ""
	for _, c := range d.Changes {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(w, "%s:\n", section)
		}
		switch c.Op {
		case diff.Added:
			fmt.Fprintf(w, "  + %s: %s", c.Key, c.To)
		case diff.Removed:
			fmt.Fprintf(w, "  - %s: %s", c.Key, c.From)
		default:
			fmt.Fprintf(w, "  ~ %s: %s -> %s", c.Key, orQuotes(c.From), orQuotes(c.To))
		}
		if c.Detail != "" {
			fmt.Fprintf(w, "  (%s)", c.Detail)
		}
		fmt.Fprintln(w)
	}
	if d.OnlyEmpty() {
		fmt.Fprintln(w, "only empty values differ (a re-marshal with other omitempty tags, not a change of state)")
	}
	fmt.Fprintf(w, "%d changes\n", len(d.Changes))
}

func orQuotes(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
