// Command ckpt reads, verifies and explains kubelet's checkpoint files.
//
// It is a thin layer over github.com/ckptkit/ckpt/kubelet: it parses flags
// and prints; it knows nothing of any format's internals.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK    = 0 // every file examined is valid or unverified
	exitBad   = 1 // a file is corrupt, invalid, or (when named) unknown
	exitUsage = 2 // usage error or unreadable path
)

// exitError carries an exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	out := &countingWriter{w: stdout}
	root := newRootCmd(out, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code, msg := exitUsage, err // flag and argument errors from cobra
	var ee *exitError
	if errors.As(err, &ee) {
		code, msg = ee.code, ee.err
	}
	if msg == nil {
		return code
	}
	fmt.Fprintln(stderr, "ckpt:", msg)
	if out.n == 0 && wantsJSON(cmd) {
		// Automation reading -o json gets a document even when the
		// command refused or failed before printing its report.
		line, _ := json.Marshal(struct {
			Error      string `json:"error"`
			ExitStatus int    `json:"exitStatus"`
		}{msg.Error(), code})
		fmt.Fprintf(stdout, "%s\n", line)
	}
	return code
}

// wantsJSON reports whether cmd ran with -o json.
func wantsJSON(cmd *cobra.Command) bool {
	if cmd == nil {
		return false
	}
	f := cmd.Flags().Lookup("output")
	return f != nil && f.Value.String() == "json"
}

// countingWriter counts what a command writes to standard output.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "ckpt",
		Short: "Read, verify and explain kubelet checkpoint files",
		Long: `ckpt reads every checkpoint file kubelet writes (cpu_manager_state, memory_manager_state,
device-plugins/kubelet_internal_checkpoint, dra_manager_state, allocated_pods_state,
actuated_pods_state, pod_status_manager_state, dockershim sandbox checkpoints), in every
format version kubelet has used, verifies every checksum they carry and shows what is inside.`,
		Example: `  ckpt verify /var/lib/kubelet
  ckpt inspect /var/lib/kubelet/cpu_manager_state
  ckpt ls /var/lib/kubelet`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newVerifyCmd(), newInspectCmd(), newLsCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// extraCommands lets each command file register itself from an init
// function, so commands are added without editing this file.
var extraCommands []func() *cobra.Command

// outputFlag is the kubectl-style -o/--output flag.
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Type() string   { return "text|json" }
func (o *outputFlag) Set(s string) error {
	switch s {
	case "text", "json":
		*o = outputFlag(s)
		return nil
	}
	return fmt.Errorf("unknown output format %q (want text or json)", s)
}

func addOutputFlag(cmd *cobra.Command, o *outputFlag) {
	*o = "text"
	cmd.Flags().VarP(o, "output", "o", "output format: text or json")
}
