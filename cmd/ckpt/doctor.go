package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet/doctor"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

func init() { extraCommands = append(extraCommands, newDoctorCmd) }

// exitFindings is doctor's status when every file loads but something is
// wrong with what they hold (policy, CPUs, NUMA memory, stale entries) or
// around them (leftover files, a full or read-only file system): distinct
// from exitBad, a file kubelet cannot load (cases B05, B30).
const exitFindings = 3

// machineFlags are the flags that describe the node's hardware, shared by
// doctor and prune.
type machineFlags struct {
	cpus, sys, file string
}

func (m *machineFlags) add(cmd *cobra.Command, sysDefault string) {
	cmd.Flags().StringVar(&m.cpus, "cpus", "", "online CPUs of the node, in kubelet's list syntax (e.g. 0-7)")
	cmd.Flags().StringVar(&m.file, "machine", "", "machine description: a machine.json (onlineCPUs, reservedSystemCPUs, numa, ...) or the output of \"lscpu -p\"")
	cmd.Flags().StringVar(&m.sys, "sys", sysDefault, "root of a sysfs tree to read online CPUs, topology and NUMA memory from")
}

// load returns the machine the flags describe and the flags to repeat in
// a fix command. An explicit --machine or --cpus wins; --sys is read only
// when neither is given, or when it was set explicitly.
func (m *machineFlags) load(cmd *cobra.Command) (*machine.Machine, []string, error) {
	var out *machine.Machine
	var args []string
	if m.file != "" {
		mf, err := machine.ReadFile(m.file)
		if err != nil {
			return nil, nil, err
		}
		out, args = mf, append(args, "--machine", m.file)
	}
	if m.cpus != "" {
		mc, err := machine.FromCPUList(m.cpus)
		if err != nil {
			return nil, nil, err
		}
		out, args = machine.Merge(mc, out), append(args, "--cpus", m.cpus)
	}
	sysSet := cmd.Flags().Changed("sys")
	if m.sys != "" && (out == nil || sysSet) {
		ms, err := machine.ReadSys(m.sys)
		switch {
		case err == nil:
			out, args = machine.Merge(out, ms), append(args, "--sys", m.sys)
		case sysSet:
			return nil, nil, err
		}
	}
	return out, args, nil
}

// readPods reads --pods-from FILE ("-" for standard input).
func readPods(cmd *cobra.Command, path string) (prune.Pods, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 16<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	p, err := prune.ParsePods(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func newDoctorCmd() *cobra.Command {
	var (
		output   outputFlag
		version  string
		config   string
		podsFrom string
		mf       machineFlags
	)
	cmd := &cobra.Command{
		Use:   "doctor [DIR]",
		Short: "Diagnose kubelet's checkpoints and say the least destructive fix for each problem",
		Long: `doctor examines kubelet's root directory DIR (default /var/lib/kubelet) and tells apart the reasons
a kubelet refuses its checkpoints: a corrupt file, a format this kubelet version cannot read, a
policy changed in the configuration, CPUs or NUMA memory that no longer match the machine, CPUs
leaked or double-assigned by a crash, entries of pods deleted while kubelet was down, leftover
temporary files, a full or read-only file system, and files it simply could not read.

Each finding has a severity (error, warning, info), what it means, and the exact command that fixes
it, least destructive first: "drain and delete" is offered only when nothing else will do. A file
that cannot be read is never called corrupt.

Checks that need more than the directory run when given:
  --kubelet-version   which files this kubelet version cannot read (or reads with loss)
  --kubelet-config    the KubeletConfiguration YAML: policies, reserved CPUs/memory, feature gates
  --cpus/--machine    the machine's online CPUs (and for --machine, reserved CPUs and NUMA memory);
  --sys               otherwise read from /sys
  --pods-from         the pods on the node: pod UIDs one per line, a JSON list of them, or
                      kubectl/crictl pods -o json (anything else is a usage error)

Exit status (the first that applies):
  2  usage errors, or a file or directory could not be read (the report is incomplete)
  1  a file kubelet cannot load as it is: corrupt-checksum, invalid, not-a-checkpoint,
     wrong-kind, unreadable-by-kubelet, read-with-loss
  3  every file loads, but another finding is a warning or an error: the policy, CPUs,
     NUMA memory or pods a file holds (policy-mismatch, cpus-*, numa-memory-drift,
     stale-entries, pod-list-mismatch, ...), leftover files, the file system
  0  nothing is wrong (info only)`,
		Example: `  # On the node, kubelet stopped or crash-looping:
  ckpt doctor --kubelet-version 1.37 --kubelet-config /var/lib/kubelet/config.yaml

  # Compare with the pods that still exist, for automation:
  crictl pods -o json > pods.json
  ckpt doctor /var/lib/kubelet --pods-from pods.json -o json

  # A copy of another node's directory, with that node's machine description:
  ckpt doctor ./kubelet-copy --machine machine.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := doctor.Options{Dir: "/var/lib/kubelet", KubeletVersion: version}
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if config != "" {
				data, err := os.ReadFile(config)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				c, err := doctor.ParseConfig(data)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", config, err)}
				}
				opts.Config, opts.ConfigPath = c, config
			}
			m, margs, err := mf.load(cmd)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if m != nil && opts.Config != nil && m.ReservedSystemCPUs == "" {
				m.ReservedSystemCPUs = opts.Config.ReservedSystemCPUs
			}
			opts.Machine, opts.MachineArgs = m, margs
			if podsFrom != "" {
				p, err := readPods(cmd, podsFrom)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				opts.Pods, opts.PodsArgs = p, []string{"--pods-from", podsFrom}
			}
			rep, err := doctor.Run(opts)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else {
				printDoctor(w, rep)
			}
			switch {
			case rep.HasIOProblem():
				return &exitError{code: exitUsage}
			case rep.CannotLoad():
				return &exitError{code: exitBad}
			case rep.Worst() != doctor.Info:
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&version, "kubelet-version", "", "the kubelet version that will read the files (e.g. 1.37)")
	cmd.Flags().StringVar(&config, "kubelet-config", "", "the kubelet's KubeletConfiguration file (YAML)")
	cmd.Flags().StringVar(&podsFrom, "pods-from", "", "file with the pods on the node: pod UIDs one per line, a JSON list of them, or kubectl/crictl pods -o json (- for standard input)")
	mf.add(cmd, "/sys")
	return cmd
}

func printDoctor(w io.Writer, rep *doctor.Report) {
	head := "ckpt doctor: " + rep.Dir
	var ctx []string
	if rep.KubeletVersion != "" {
		ctx = append(ctx, "kubelet "+rep.KubeletVersion)
	}
	if rep.Machine != nil && rep.Machine.Source != "" {
		ctx = append(ctx, "machine from "+rep.Machine.Source)
	}
	if len(ctx) > 0 {
		head += " (" + strings.Join(ctx, ", ") + ")"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, "\nFiles:")
	tw := newTable(w)
	for _, f := range rep.Files {
		state := "OK"
		switch {
		case !f.Present:
			state = "ABSENT"
		case f.Verdict == "":
			state = "UNREADABLE"
		case f.Verdict != "valid" && f.Verdict != "unverified":
			state = strings.ToUpper(string(f.Verdict))
		}
		tw.row("  %s\t%s\t%s", state, inside(rep.Dir, f.Path), f.Status)
	}
	tw.flush()

	counts := map[doctor.Severity]int{}
	shown := 0
	for _, f := range rep.Findings {
		counts[f.Severity]++
		if f.Code == doctor.CodeAbsent {
			continue // listed above
		}
		if shown == 0 {
			fmt.Fprintln(w, "\nFindings:")
		}
		shown++
		where := ""
		if f.Path != "" {
			where = "  " + f.Path
		}
		fmt.Fprintf(w, "\n%s  %s%s\n", strings.ToUpper(string(f.Severity)), f.Code, where)
		fmt.Fprintf(w, "  %s\n", f.Summary)
		for _, d := range f.Details {
			fmt.Fprintf(w, "    - %s\n", d)
		}
		if f.Meaning != "" {
			for _, line := range wrap("What it means: "+f.Meaning, 96) {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
		if f.Fix != "" {
			if f.StopKubelet {
				fmt.Fprintln(w, "  Fix (with kubelet stopped: systemctl stop kubelet; start it again after):")
			} else {
				fmt.Fprintln(w, "  Fix:")
			}
			for _, line := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "\n%d errors, %d warnings, %d notes\n", counts[doctor.Error], counts[doctor.Warning], counts[doctor.Info])
}

// inside shows path relative to dir when it is inside it.
func inside(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = "  " + word
			continue
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
