package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/repair"
)

func init() { extraCommands = append(extraCommands, newRepairCmd) }

// repairOutput is the JSON form of `repair -o json`.
type repairOutput struct {
	*repair.Plan
	writeResult
}

func newRepairCmd() *cobra.Command {
	var (
		output outputFlag
		ff     fixFlags
	)
	cmd := &cobra.Command{
		Use:   "repair FILE [--yes] [--backup-dir DIR] [--force] [-o text|json]",
		Short: "Recompute every checksum of a checkpoint edited by hand on purpose",
		Long: `repair is for a checkpoint that an operator edited deliberately (to free a CPU, fix a cpuset,
drop a claim): it recomputes every checksum the format carries, in the same format and layout.

First it shows what the new checksums will cover: a semantic diff against the last content that
still verifies. For formats that carry the state twice (cpu V4, memory V3) that is the copy
whose checksum still holds: the copy that fails was edited, and the other is rebuilt from it
(pod-level entries and baselines, which only the data string holds, are kept). For other
formats it is the newest backup of the file that verifies (in --backup-dir, default
<kubelet dir>/../ckpt-backup, where ckpt keeps its backups); without one the new checksums cover
the file as it is now, and repair says so.

A file whose complete, verifying document is followed by trailing bytes (the tail of an older,
longer file: case B25) is salvaged: repair keeps the leading document byte for byte and drops
the rest; no checksum changes. Any other file that does not decode (truncated, garbled, an
unparsable cpuset) is refused: a checksum cannot fix it.

Without --yes it only shows the plan. With --yes (kubelet stopped) it keeps a backup of the
original, writes atomically and durably, and reads the file back.

Exit status: 0 repaired, or nothing to repair; 1 a dry run that would repair, or refused (the
file does not decode, no repair for this format); 2 usage errors and when the node prevents
the write (a kubelet process runs, the disk refuses, the read-back check fails).`,
		Example: `  # See what would change after editing cpu_manager_state by hand.
  ckpt repair /var/lib/kubelet/cpu_manager_state

  # Write it (kubelet stopped).
  ckpt repair /var/lib/kubelet/cpu_manager_state --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			data, _, err := kubelet.ReadFile(path, 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			bdir := ff.backupDir
			plan, err := repair.Prepare(path, data, repair.Options{BackupDir: bdir})
			if err != nil {
				return &exitError{code: exitBad, err: err}
			}
			var wr writeResult
			var werr error
			if !plan.Unchanged {
				wr, werr = writePlan(path, plan.Data, plan.Verify, ff)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(repairOutput{Plan: plan, writeResult: wr}); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else {
				printRepair(cmd.OutOrStdout(), plan, ff.yes, wr)
			}
			return fixExit(werr, !plan.Unchanged, ff)
		},
	}
	addOutputFlag(cmd, &output)
	ff.add(cmd)
	return cmd
}

func printRepair(w io.Writer, p *repair.Plan, yes bool, wr writeResult) {
	fmt.Fprintf(w, "File:     %s (%s)\n", printable(p.Path), kindFormat(p.Kind, p.Format))
	if p.Unchanged {
		fmt.Fprintln(w, "Nothing to repair: every checksum already verifies.")
		return
	}
	if p.Salvaged {
		fmt.Fprintf(w, "Salvage:  %s\n", printable(p.Covers))
	} else {
		fmt.Fprintln(w, "Checksums:")
		tw := newTable(w)
		for _, f := range p.Fixes {
			tw.row("  %s\t%d -> %d\t%s", f.Field, f.Old, f.New, f.Rule)
		}
		tw.flush()
		fmt.Fprintf(w, "Covers:   %s\n", p.Covers)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note:     %s\n", printable(n))
	}
	switch {
	case p.Baseline == "":
		fmt.Fprintln(w, "Against:  no earlier content verifies (no backup either): the new checksums cover the file as it is now.")
		res := kubelet.Examine(p.Path, p.Data)
		for _, t := range res.Tables {
			fmt.Fprintln(w)
			printTable(w, t)
		}
	case len(p.Diff) == 0:
		fmt.Fprintf(w, "Against:  %s: no difference in content\n", p.Baseline)
	default:
		fmt.Fprintf(w, "Against:  %s:\n", p.Baseline)
		tw := newTable(w)
		for _, c := range p.Diff {
			switch c.Op {
			case "changed":
				tw.row("  changed\t%s\t%s -> %s", printable(c.Path), printable(c.Old), printable(c.New))
			case "added":
				tw.row("  added\t%s\t%s", printable(c.Path), printable(c.New))
			default:
				tw.row("  removed\t%s\t%s", printable(c.Path), printable(c.Old))
			}
		}
		tw.flush()
	}
	printWrite(w, yes, wr)
}
