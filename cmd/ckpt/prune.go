package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

func init() { extraCommands = append(extraCommands, newPruneCmd) }

// pruneOutput is the JSON form of `prune -o json`.
type pruneOutput struct {
	*prune.Result
	Written bool   `json:"written"`
	Backup  string `json:"backup,omitempty"`
}

func newPruneCmd() *cobra.Command {
	var (
		output   outputFlag
		keepPods string
		podsFrom string
		mf       machineFlags

		allowNoMatch bool
		wf           fixFlags
	)
	cmd := &cobra.Command{
		Use:   "prune FILE (--keep-pods UIDS | --pods-from FILE) [--machine FILE | --cpus LIST | --sys DIR] [--yes]",
		Short: "Drop the entries of pods that are gone, and give back what they held",
		Long: `prune drops from a kubelet checkpoint the entries of every pod that is not in the list of pods
on the node, and gives back what they held, as kubelet does when it removes a container:

  cpu_manager_state            their exclusive CPUs return to the default set
  memory_manager_state         their memory returns from reserved to free on its NUMA nodes
  kubelet_internal_checkpoint  their device allocations go (the devices become free)
  dra_manager_state            they leave each claim; a claim without pods goes
  allocated_pods_state,
  actuated_pods_state          their entries go

With a machine description (--machine, --cpus or --sys), prune also reconciles the file with the
machine: for the static CPU policy, online CPUs that nobody holds (leaked by a crash) return to the
default set, CPUs the machine lacks leave it, and CPUs that a running container holds leave it
(double-assigned); for the static memory policy, the per-NUMA totals are rebased on the machine's
when every assignment still fits.

Without --yes, prune only shows what would change (a dry run). With --yes it refuses while a
kubelet process runs (unless --force), keeps a backup of the original outside kubelet's directory
(--backup-dir, default <kubelet dir>/../ckpt-backup), writes atomically and durably, reads the
file back and verifies it, and restores the original if that fails. The file is written in the
format kubelet 1.37 writes, which older kubelets read too (the dry run says which).

The pod list must be a pod list: pod UIDs (8-4-4-4-12 or 32 hex digits) one per line, a JSON
list of them, or the JSON of kubectl get pods / crictl pods; anything else (an error message
saved in its place) is a usage error. When no pod of the list has an entry in the file, every
entry would go: prune then refuses to write unless --allow-no-match (check the list first).

Exit status: 0 when the file was written or nothing needs to change; 1 when a dry run shows
changes, when the file cannot be pruned (corrupt, or a layout to migrate first), when the
write is refused because no pod of the list has an entry, and when the file still keeps
kubelet from starting after what prune can do (the "Blocks:" lines say what it needs: the pod
list, a pod deleted, a CPU online); 2 for usage errors and when the node prevents the write (a
kubelet process runs, the disk refuses, the read-back check fails).`,
		Example: `  # Which entries are stale? (dry run)
  crictl pods -o json > pods.json
  ckpt prune /var/lib/kubelet/cpu_manager_state --pods-from pods.json

  # Write it, kubelet stopped:
  systemctl stop kubelet
  ckpt prune /var/lib/kubelet/cpu_manager_state --pods-from pods.json --yes
  systemctl start kubelet

  # Return leaked CPUs to the default set, for this machine:
  ckpt prune /var/lib/kubelet/cpu_manager_state --sys /sys --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			var opts prune.Options
			switch {
			case cmd.Flags().Changed("keep-pods") && podsFrom != "":
				return &exitError{code: exitUsage, err: errors.New("give either --keep-pods or --pods-from, not both")}
			case cmd.Flags().Changed("keep-pods"):
				// An explicitly empty --keep-pods '' means no pod runs.
				p, err := prune.ParseUIDList(keepPods)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--keep-pods: %w", err)}
				}
				opts.Keep = p
			case podsFrom != "":
				p, err := readPods(cmd, podsFrom)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				opts.Keep = p
			}
			if mf.file != "" || mf.cpus != "" || cmd.Flags().Changed("sys") {
				m, _, err := mf.load(cmd)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				opts.Machine = m
			}
			if opts.Keep == nil && opts.Machine == nil {
				return &exitError{code: exitUsage, err: errors.New("say which pods exist (--keep-pods or --pods-from), " +
					"or give the machine (--machine, --cpus or --sys)")}
			}
			data, _, err := kubelet.ReadFile(path, 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			res, err := prune.Plan(path, data, opts)
			if err != nil {
				return &exitError{code: exitBad, err: err}
			}
			out := pruneOutput{Result: res}
			w := cmd.OutOrStdout()
			if output != "json" {
				printPrune(w, res, wf.yes)
			}
			var werr error
			if res.Changed() && res.NoMatch && wf.yes && !allowNoMatch {
				// The list names none of the file's pods: likely another
				// node's list, and every entry would go. Refused because
				// of what the file and the list hold: status 1.
				werr = &exitError{code: exitBad, err: fmt.Errorf("%s: not written: no pod of the pod list has an entry in "+
					"the file, so every entry would be dropped; check the list comes from this node, and if every pod "+
					"of the file really is gone, add --allow-no-match", path)}
			} else if res.Changed() {
				var wr writeResult
				wr, werr = writePlan(path, res.Data, prune.Verifier(res), wf)
				out.Written, out.Backup = wr.Written, wr.Backup
				if wr.Written && output != "json" {
					fmt.Fprintf(w, "\nWrote %s (%d bytes); the original is kept in %s\n", path, wr.Bytes, wr.Backup)
				}
			}
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			switch {
			case werr != nil:
				return werr
			case res.Changed() && !wf.yes:
				return &exitError{code: exitBad}
			case len(res.Unresolved) > 0:
				// Written or not, the file still keeps kubelet from
				// starting: what it takes is printed above.
				return &exitError{code: exitBad}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&keepPods, "keep-pods", "", "UIDs of the pods on the node, comma-separated (--keep-pods '' when none runs)")
	cmd.Flags().StringVar(&podsFrom, "pods-from", "", "file with the UIDs of the pods on the node: pod UIDs one per line, a JSON list of them, or kubectl/crictl pods -o json (- for standard input)")
	cmd.Flags().BoolVar(&allowNoMatch, "allow-no-match", false, "write even though no pod of the list has an entry in the file (every entry goes)")
	mf.add(cmd, "")
	wf.add(cmd)
	return cmd
}

func printPrune(w io.Writer, res *prune.Result, yes bool) {
	fmt.Fprintf(w, "File:    %s (%s)\n", printable(res.Path), kindFormat(res.Kind, res.Format))
	if len(res.Removed) == 0 {
		fmt.Fprintln(w, "Stale:   none")
	} else {
		fmt.Fprintf(w, "Stale:   %d entries of pods that are gone (%d kept)\n", len(res.Removed), res.Kept)
		tw := newTable(w)
		tw.row("  %s\t%s\t%s", "POD", "ENTRY", "HELD")
		for _, r := range res.Removed {
			tw.row("  %s\t%s\t%s", r.Pod, r.Name, r.Holds)
		}
		tw.flush()
	}
	for _, c := range res.Changes {
		fmt.Fprintf(w, "Change:  %s\n", c)
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", wn)
	}
	for _, u := range res.Unresolved {
		fmt.Fprintf(w, "Blocks:  %s\n", u)
	}
	switch {
	case !res.Changed() && len(res.Unresolved) > 0:
		fmt.Fprintln(w, "Nothing prune can change: the file still keeps kubelet from starting (see Blocks).")
	case !res.Changed():
		fmt.Fprintln(w, "Nothing to change.")
	case !yes:
		fmt.Fprintf(w, "Output:  %s\n", res.OutputFormat)
		fmt.Fprintln(w, "Dry run: nothing written; run again with --yes (kubelet stopped) to write.")
	default:
		fmt.Fprintf(w, "Output:  %s\n", res.OutputFormat)
	}
}
