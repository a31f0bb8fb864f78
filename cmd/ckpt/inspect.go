package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// inspectOptions are the flags of `inspect` that sections may use.
type inspectOptions struct {
	// NoColor disables colour even on a terminal.
	NoColor bool
	// Color is true when the output is a terminal and NoColor is unset.
	Color bool
	// Topology is a file describing the CPU topology (for the CPU grid).
	Topology string
	// Sys is the root of a sysfs tree (default /sys) for topology and NUMA data.
	Sys string
}

// inspectSection adds a titled section to `inspect FILE`, after the content
// tables: Render returns text for people and a value for -o json (under
// Key), or ok=false when the section does not apply to the file. Sections
// register themselves from init functions in their own files.
type inspectSection struct {
	Key    string
	Title  string
	Render func(f kubelet.File, opts inspectOptions) (text string, value any, ok bool)
}

var inspectSections []inspectSection

func newInspectCmd() *cobra.Command {
	var output outputFlag
	var opts inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [-o text|json] FILE|DIR",
		Short: "Show the verdict on a checkpoint file and what is inside it",
		Long: `inspect prints the verdict on FILE (as verify does, with every checksum's stored and computed
value, and the text that was hashed when a checksum fails) and then its content as tables:
pods, containers and cpusets for the CPU manager; NUMA nodes and memory blocks for the memory
manager; devices per resource and pod for the device manager; claims, drivers and devices for
DRA; resources per container for allocation checkpoints.

Given a kubelet root DIR, inspect reports for each checkpoint kubelet keeps whether it is present,
and what its absence means (on a fresh node, absence is normal).

-o json prints the decoded content as normalized JSON with stable field names.
Exit status as for verify.`,
		Example: `  ckpt inspect /var/lib/kubelet/cpu_manager_state
  ckpt inspect -o json /var/lib/kubelet/dra_manager_state
  ckpt inspect /var/lib/kubelet`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := os.Stat(args[0])
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if info.IsDir() {
				return inspectDir(cmd.OutOrStdout(), args[0], string(output))
			}
			opts.Color = !opts.NoColor && isTerminal(cmd.OutOrStdout())
			return inspectFile(cmd.OutOrStdout(), args[0], string(output), opts)
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&opts.NoColor, "no-color", false, "never use colour (it is used only when the output is a terminal)")
	cmd.Flags().StringVar(&opts.Topology, "topology", "", "file describing the CPU topology, for the CPU grid")
	cmd.Flags().StringVar(&opts.Sys, "sys", "/sys", "root of the sysfs tree to read CPU topology and NUMA memory from")
	return cmd
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// inspection is the JSON form of `inspect FILE`.
type inspection struct {
	record
	Content  any            `json:"content"`
	Sections map[string]any `json:"sections,omitempty"`
}

func inspectFile(w io.Writer, path, output string, opts inspectOptions) error {
	f, err := kubelet.ExamineFile(path)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	r := f.Result
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		rec := fileRecord(f)
		rec.Checksums = r.Checksums // inspect keeps every hashed text
		ins := inspection{record: rec, Content: r.Content}
		for _, sec := range inspectSections {
			if _, v, ok := sec.Render(f, opts); ok {
				if ins.Sections == nil {
					ins.Sections = map[string]any{}
				}
				ins.Sections[sec.Key] = v
			}
		}
		if err := enc.Encode(ins); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	} else {
		printInspection(w, f)
		for _, sec := range inspectSections {
			if text, _, ok := sec.Render(f, opts); ok {
				fmt.Fprintf(w, "\n%s\n%s", sec.Title, text)
				if !strings.HasSuffix(text, "\n") {
					fmt.Fprintln(w)
				}
			}
		}
	}
	return verdictExit(r.Verdict)
}

func verdictExit(v check.Verdict) error {
	switch v {
	case check.Valid, check.Unverified:
		return nil
	}
	return &exitError{code: exitBad}
}

func printInspection(w io.Writer, f kubelet.File) {
	r := f.Result
	fmt.Fprintf(w, "File:     %s (%d bytes)\n", printable(f.Path), f.Size)
	fmt.Fprintf(w, "Kind:     %s\n", r.Kind)
	format := r.Format
	if r.Description != "" {
		format += " - " + r.Description
	}
	fmt.Fprintf(w, "Format:   %s\n", format)
	fmt.Fprintf(w, "Verdict:  %s\n", r.Verdict)
	if r.Err != nil {
		fmt.Fprintf(w, "Problem:  %s\n", printable(r.Err.Error()))
		var de *check.DecodeError
		if errors.As(r.Err, &de) && de.Problem.Durability() {
			fmt.Fprintf(w, "Cause:    durability failure: the file was not completely written to disk (a write not synced before a crash or power loss), not a checksum mismatch\n")
		}
	}
	if len(r.Checksums) > 0 {
		fmt.Fprintln(w, "Checksums:")
		tw := newTable(w)
		for _, c := range r.Checksums {
			state := "ok"
			switch {
			case c.Unverified:
				state = "unverified"
			case !c.OK:
				state = "MISMATCH"
			}
			tw.row("  %s\tstored %d\tcomputed %d\t%s\t%s", c.Field, c.Stored, c.Computed, state, c.Rule)
			if c.Note != "" {
				tw.row("  \t%s", c.Note)
			}
		}
		tw.flush()
		for _, c := range r.Checksums {
			if !c.OK && !c.Unverified && c.HashedText != "" {
				fmt.Fprintf(w, "Hashed text for %s (what the computed checksum covers):\n  %s\n", c.Field, printable(c.HashedText))
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note:     %s\n", printable(n))
	}
	for _, t := range r.Tables {
		fmt.Fprintln(w)
		printTable(w, t)
	}
}

func printTable(w io.Writer, t check.Table) {
	if t.Title != "" {
		fmt.Fprintln(w, printable(t.Title))
	}
	tw := newTable(w)
	if len(t.Header) > 0 {
		tw.row("%s", strings.Join(upper(t.Header), "\t"))
	}
	for _, row := range t.Rows {
		tw.row("%s", strings.Join(printableRow(row), "\t"))
	}
	if len(t.Rows) == 0 {
		tw.row("(none)")
	}
	tw.flush()
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// wellKnown are the checkpoints kubelet keeps under its root directory, and
// what it means when one is absent.
var wellKnown = []struct {
	path   string
	absent string
}{
	{"cpu_manager_state", "normal: kubelet writes a fresh one when it starts, from its configured CPU manager policy"},
	{"memory_manager_state", "normal: kubelet writes a fresh one when it starts, from its configured memory manager policy"},
	{filepath.Join("device-plugins", "kubelet_internal_checkpoint"), "normal on a node with no device allocations yet; kubelet logs \"checkpoint is not found\" and carries on: that message is not why a kubelet fails"},
	{"dra_manager_state", "normal: kubelet creates an empty one when it starts with DynamicResourceAllocation on"},
	{"allocated_pods_state", "normal: kubelet writes it at the first pod resource allocation"},
}

// dirEntry is the JSON form of one line of `inspect DIR`.
type dirEntry struct {
	Path     string `json:"path"`
	Present  bool   `json:"present"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	record
}

func inspectDir(w io.Writer, dir, output string) error {
	var entries []dirEntry
	code := exitOK
	for _, k := range wellKnown {
		p := filepath.Join(dir, k.path)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			// A device-plugins directory itself may be given.
			alt := filepath.Join(dir, filepath.Base(k.path))
			if _, err2 := os.Lstat(alt); err2 != nil {
				entries = append(entries, dirEntry{Path: p, Severity: "info", Message: "absent (" + k.absent + ")"})
				continue
			}
			p = alt
		}
		f, err := kubelet.ExamineFile(p)
		e := dirEntry{Path: p, Present: true, record: fileRecord(f)}
		e.record.Path = ""
		switch {
		case err != nil:
			e.Severity, e.Message = "error", "unreadable: "+err.Error()
			code = max(code, exitUsage)
		case f.Result.Verdict == check.Valid || f.Result.Verdict == check.Unverified:
			e.Severity, e.Message = "ok", fmt.Sprintf("present, %s %s", f.Result.Verdict, f.Result.Format)
		default:
			e.Severity, e.Message = "error", fmt.Sprintf("present, %s: %s", f.Result.Verdict, reason(f))
			code = max(code, exitBad)
		}
		entries = append(entries, e)
	}
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
		}
	} else {
		tw := newTable(w)
		for _, e := range entries {
			tw.row("%s\t%s\t%s", strings.ToUpper(e.Severity), printable(e.Path), printable(e.Message))
		}
		tw.flush()
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}
