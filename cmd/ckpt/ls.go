package main

import (
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
)

func newLsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls DIR",
		Short: "List the checkpoint files in a directory",
		Long: `ls lists the checkpoint files under DIR (found as verify finds them) in a table: name
relative to DIR, kind, format, size, modification time and verdict. Leftover temporary files
of interrupted writes are listed too. Exit status 2 when DIR or a checkpoint in it cannot be
read, else 0 (ls judges nothing: use verify for a verdict).`,
		Example: `  ckpt ls /var/lib/kubelet`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLs(cmd.OutOrStdout(), args[0])
		},
	}
}

func runLs(w io.Writer, dir string) error {
	s, err := kubelet.ScanDir(dir)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	tw := newTable(w)
	tw.row("NAME	KIND	FORMAT	SIZE	MODIFIED	VERDICT")
	for _, f := range s.Files {
		rec := fileRecord(f)
		tw.row("%s\t%s\t%s\t%d\t%s\t%s", printable(rel(dir, f.Path)), orDash(string(rec.Kind)), orDash(rec.Format),
			f.Size, modified(f.ModTime), rec.Verdict)
	}
	for _, f := range s.Findings {
		tw.row("%s\t-\t-\t%d\t-\t%s", printable(rel(dir, f.Path)), f.Size, f.Finding)
	}
	tw.flush()
	for _, f := range s.Files {
		if f.ReadErr != nil {
			return &exitError{code: exitUsage}
		}
	}
	return nil
}

func rel(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil {
		return r
	}
	return path
}

func modified(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
