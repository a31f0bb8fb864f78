package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/compat"
)

func init() {
	extraCommands = append(extraCommands, newCompatCmd)
	inspectSections = append(inspectSections, inspectSection{
		Key:    "compat",
		Title:  "Kubelet compatibility (ckpt compat):",
		Render: renderCompatSection,
	})
}

// compatOutput is the JSON form of `compat -o json`.
type compatOutput struct {
	compat.Report
	Summary   string   `json:"summary"`
	GateNotes []string `json:"gateNotes,omitempty"`
	// Selected is the cell of --kubelet under --feature-gates (or the
	// version's defaults), when given; Other is the cell of the other
	// setting of the gate, when --feature-gates does not set it.
	Selected []compat.Cell `json:"selected,omitempty"`
	Other    []compat.Cell `json:"other,omitempty"`
}

func newCompatCmd() *cobra.Command {
	var (
		output  outputFlag
		version string
		gates   string
	)
	cmd := &cobra.Command{
		Use:   "compat FILE [--kubelet X.Y] [--feature-gates G=true,...] [-o text|json]",
		Short: "Tell which kubelet versions (1.17-1.37) accept a checkpoint file, and why not",
		Long: `compat answers, for one checkpoint file, what each kubelet version from 1.17 to 1.37 does
with it, under each setting of the feature gate that changes how that kind of file is read
(PodLevelResourceManagers for the CPU and memory managers, InPlacePodVerticalScaling for the pod
resource checkpoints, DynamicResourceAllocation for DRA):

  accept            the version reads the file and restores all of it
  accept-with-loss  the version reads the file but silently drops part of it (listed)
  reject            the version fails to read it (kubelet's reason; "kubelet exits" when it
                    then refuses to start)
  not-read          the version does not read this file at all

It follows kubelet's read ladders: the order in which each version tries the layouts, the
checksum variants it accepts and where it skips a zero checksum.

With --kubelet X.Y, only that version's row is shown: the one --feature-gates selects, or the
version's default (then the other gate setting's outcome follows in one line), and the exit
status is 1 when it rejects the file or loses part of it.

Exit status: 0, or 1 when --kubelet's version rejects or loses data, or the file is no
kubelet checkpoint; 2 for usage errors and unreadable files.`,
		Example: `  # The whole matrix.
  ckpt compat /var/lib/kubelet/cpu_manager_state

  # Will a kubelet 1.35 (rollback) read it?
  ckpt compat /var/lib/kubelet/cpu_manager_state --kubelet 1.35

  # With a gate on, as JSON.
  ckpt compat /var/lib/kubelet/memory_manager_state --kubelet 1.36 \
      --feature-gates PodLevelResourceManagers=true -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v *compat.Version
			if version != "" {
				pv, err := compat.ParseVersion(version)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				v = &pv
			}
			gs, err := compat.ParseGates(gates)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			data, _, err := kubelet.ReadFile(args[0], 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return runCompat(cmd.OutOrStdout(), args[0], data, v, gs, string(output))
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&version, "kubelet", "", "answer for this kubelet version only (1.17 to 1.37)")
	cmd.Flags().StringVar(&gates, "feature-gates", "", "feature gates of that kubelet, e.g. PodLevelResourceManagers=true (default: the version's defaults)")
	return cmd
}

func runCompat(w io.Writer, path string, data []byte, v *compat.Version, gates compat.Gates, output string) error {
	r := compat.Check(path, data)
	out := compatOutput{Report: r, Summary: r.Summary(), GateNotes: r.GateNotes()}
	var verdict error
	if len(r.Cells) == 0 {
		verdict = &exitError{code: exitBad, err: fmt.Errorf("%s: not a kubelet checkpoint (%s)", path, r.Verdict)}
	}
	if v != nil {
		if c, ok := r.Lookup(*v, gates); ok {
			out.Selected = []compat.Cell{c}
			if c.Outcome == compat.Reject || c.Outcome == compat.AcceptWithLoss {
				verdict = &exitError{code: exitBad}
			}
			if _, set := gates[c.Gate]; c.Gate != "" && !set {
				for _, o := range r.For(*v) {
					if o.GateOn != c.GateOn {
						out.Other = append(out.Other, o)
					}
				}
			}
		}
	}
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return verdict
	}
	fmt.Fprintf(w, "File:     %s\n", printable(path))
	format := r.Format
	if r.Description != "" {
		format += " - " + r.Description
	}
	fmt.Fprintf(w, "Kind:     %s\nFormat:   %s\nVerdict:  %s\n", r.Kind, format, r.Verdict)
	if len(r.Cells) == 0 {
		return verdict
	}
	if v == nil {
		fmt.Fprintf(w, "Summary:  %s\n", out.Summary)
		for _, n := range out.GateNotes {
			fmt.Fprintf(w, "Gate:     %s\n", printable(n))
		}
		fmt.Fprintln(w)
		printTable(w, r.Table())
	} else {
		for _, c := range out.Selected {
			fmt.Fprintf(w, "\nKubelet %s, %s: %s\n", c.Kubelet, c.GateLabel(), strings.ToUpper(string(c.Outcome)))
			printCell(w, c)
		}
		for _, o := range out.Other {
			fmt.Fprintf(w, "\nWith %s instead (--feature-gates %s=%v): %s\n", o.GateLabel(), o.Gate, o.GateOn, o.Outcome)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note:     %s\n", printable(n))
	}
	return verdict
}

func printCell(w io.Writer, c compat.Cell) {
	if c.ReadsAs != "" {
		fmt.Fprintf(w, "  reads it as: %s\n", c.ReadsAs)
	}
	if c.Reason != "" {
		label := "reason"
		if c.Outcome != compat.Reject && c.Outcome != compat.NotRead {
			label = "note"
		}
		fmt.Fprintf(w, "  %s: %s\n", label, printable(c.Reason))
	}
	for _, l := range c.Lost {
		fmt.Fprintf(w, "  LOSES: %s\n", printable(l))
	}
	switch {
	case c.Outcome == compat.Reject && c.Fatal:
		fmt.Fprintln(w, "  kubelet refuses to start")
	case c.Outcome == compat.Reject:
		fmt.Fprintln(w, "  kubelet carries on without this state")
	case c.Fatal:
		fmt.Fprintln(w, "  kubelet reads it, then its policy refuses the state: kubelet refuses to start")
	}
}

// renderCompatSection is the "compat" section of inspect.
func renderCompatSection(f kubelet.File, _ inspectOptions) (string, any, bool) {
	if f.ReadErr != nil {
		return "", nil, false
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return "", nil, false
	}
	r := compat.FromResult(f.Path, data, f.Result)
	if len(r.Cells) == 0 {
		return "", nil, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Summary:  %s\n", r.Summary())
	for _, n := range r.GateNotes() {
		fmt.Fprintf(&b, "Gate:     %s\n", printable(n))
	}
	printTable(&b, r.Table())
	return b.String(), compatOutput{Report: r, Summary: r.Summary(), GateNotes: r.GateNotes()}, true
}
