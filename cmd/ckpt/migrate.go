package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/migrate"
)

func init() { extraCommands = append(extraCommands, newMigrateCmd) }

// migrateOutput is the JSON form of `migrate -o json`.
type migrateOutput struct {
	*migrate.Plan
	writeResult
}

func newMigrateCmd() *cobra.Command {
	var (
		output     outputFlag
		to         string
		gates      string
		containers string
		numa       int64
		policy     string
		allowLoss  bool
		ff         fixFlags
	)
	cmd := &cobra.Command{
		Use:   "migrate FILE --to-kubelet X.Y [--feature-gates G=true] [--containers FILE] [--numa N] [--policy P] [--allow-loss] [--yes]",
		Short: "Rewrite a checkpoint in the format a given kubelet version reads, keeping its state",
		Long: `migrate rewrites FILE in the newest format that kubelet X.Y reads (with its default feature
gates, or --feature-gates), with that version's checksum rule, keeping the state:

  cpu_manager_state     V1 (<=1.17), V2 (1.18-1.35, 1.36), V3 (1.36 with PodLevelResourceManagers), V4 (1.37)
  memory_manager_state  V1 (1.21-1.35, 1.36), V2 (1.36 with PodLevelResourceManagers), V3 (1.37)
  kubelet_internal_checkpoint  pre-1.20 (<=1.19), v2 (1.20+)
  dra_manager_state     legacy 1.27-1.30 -> crc32 (1.31+)
  allocated_pods_state / actuated_pods_state  1.33+ (dropping fields older versions do not know)

It refuses, naming the entries, when the new file would lose state (pod-level entries for a
kubelet without them, baselines before 1.37, NUMA nodes before 1.20, ...), unless --allow-loss.
When dropping pod-level CPU assignments it gives their CPUs back to the default set. Fields
an old format has and the new one has no place for (DRA resource handles, class names) are
listed as dropped.

Converting a V1 cpu_manager_state (entries keyed by container ID, written by kubelet <= 1.17)
to pods, or pod entries back to V1 for kubelet 1.17, needs --containers FILE: the output of
crictl ps -a -o json as it is (each container's id and its io.kubernetes.pod.uid and
io.kubernetes.container.name labels), of kubectl get pods -o json (containerStatuses), or a
JSON object from container ID to {"podUID": ..., "containerName": ...}. A pre-1.20 device
checkpoint needs --numa N, the NUMA node of its devices.

--policy changes the CPU manager (none, static) or memory manager (None, Static) policy
recorded in the file, writing the fresh state kubelet starts a new node with; going from
static to none is refused while exclusive assignments exist (they are listed), unless
--allow-loss.

Without --yes, migrate only shows what it would do. With --yes (kubelet stopped) it keeps a
backup of the original outside the kubelet directory, writes atomically and durably, reads the
file back and checks that the target kubelet accepts it, restoring the original otherwise.

Exit status: 0 written, or nothing to do; 1 a dry run that would change the file, or refused
(state would be lost, the file is not readable, no such conversion); 2 usage errors (a missing
--containers or --numa, a bad version) and when the node prevents the write (a kubelet process
runs, the disk refuses, the read-back check fails).`,
		Example: `  # A 1.17 cpu_manager_state for kubelet 1.37 (dry run, then write).
  crictl ps -a -o json > containers.json
  ckpt migrate /var/lib/kubelet/cpu_manager_state --to-kubelet 1.37 --containers containers.json
  ckpt migrate /var/lib/kubelet/cpu_manager_state --to-kubelet 1.37 --containers containers.json --yes

  # Roll back to 1.35, accepting the loss of pod-level assignments.
  ckpt migrate /var/lib/kubelet/cpu_manager_state --to-kubelet 1.35 --allow-loss --yes

  # A 1.30 dra_manager_state for kubelet 1.31.
  ckpt migrate /var/lib/kubelet/dra_manager_state --to-kubelet 1.31 --yes

  # The CPU manager policy changes from none to static (kubelet stopped).
  ckpt migrate /var/lib/kubelet/cpu_manager_state --to-kubelet 1.37 --policy static --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if to == "" {
				return &exitError{code: exitUsage, err: errors.New("--to-kubelet X.Y is required")}
			}
			v, err := compat.ParseVersion(to)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			opts := migrate.Options{To: v, Policy: policy, AllowLoss: allowLoss}
			if opts.Gates, err = compat.ParseGates(gates); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if containers != "" {
				b, err := os.ReadFile(containers)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				if opts.Containers, err = migrate.ParseContainers(b); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", containers, err)}
				}
			}
			if cmd.Flags().Changed("numa") {
				n := numa
				opts.NUMANode = &n
			}
			data, _, err := kubelet.ReadFile(path, 0)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			plan, err := migrate.Prepare(path, data, opts)
			if err != nil {
				code := exitBad
				if errors.Is(err, migrate.ErrNeedContainers) || errors.Is(err, migrate.ErrNeedNUMA) || errors.Is(err, migrate.ErrPolicy) {
					code = exitUsage
				}
				return &exitError{code: code, err: err}
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
				if err := enc.Encode(migrateOutput{Plan: plan, writeResult: wr}); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else {
				printMigrate(cmd.OutOrStdout(), plan, ff.yes, wr)
			}
			return fixExit(werr, !plan.Unchanged, ff)
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&to, "to-kubelet", "", "the kubelet version that will read the file (1.17 to 1.37)")
	cmd.Flags().StringVar(&gates, "feature-gates", "", "that kubelet's feature gates, e.g. PodLevelResourceManagers=true (default: its defaults)")
	cmd.Flags().StringVar(&containers, "containers", "", "container IDs of the pods, for cpu V1 files: crictl ps -a -o json, kubectl get pods -o json, or a JSON map from container ID to {podUID, containerName}")
	cmd.Flags().Int64Var(&numa, "numa", 0, "NUMA node of the devices of a pre-1.20 device checkpoint")
	cmd.Flags().StringVar(&policy, "policy", "", "change the recorded policy: none|static (cpu), None|Static (memory)")
	cmd.Flags().BoolVar(&allowLoss, "allow-loss", false, "write even though state is lost (it is listed)")
	ff.add(cmd)
	return cmd
}

func printMigrate(w io.Writer, p *migrate.Plan, yes bool, wr writeResult) {
	fmt.Fprintf(w, "File:     %s\n", printable(p.Path))
	fmt.Fprintf(w, "From:     %s %s - %s\n", p.Kind, p.From, p.FromDescription)
	gates := ""
	for g, on := range p.Gates {
		gates += fmt.Sprintf(", %s=%v", g, on)
	}
	fmt.Fprintf(w, "To:       %s %s for kubelet %s%s - %s\n", p.Kind, p.To, p.Target, gates, p.ToDescription)
	if p.Unchanged {
		fmt.Fprintln(w, "Nothing to do: the file already is what kubelet", p.Target.String(), "reads.")
		return
	}
	printList(w, "Changes:", p.Changes)
	printList(w, "Dropped (no place for them in the new format):", p.Dropped)
	printList(w, "LOST (--allow-loss):", p.Lost)
	fmt.Fprintf(w, "Kubelet %s: %s", p.Target, p.Accepted.Outcome)
	if p.Accepted.ReadsAs != "" {
		fmt.Fprintf(w, " (reads it as %s)", p.Accepted.ReadsAs)
	}
	fmt.Fprintln(w)
	printWrite(w, yes, wr)
}

func printList(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for _, it := range items {
		fmt.Fprintf(w, "  - %s\n", printable(it))
	}
}

func printWrite(w io.Writer, yes bool, wr writeResult) {
	switch {
	case !yes:
		fmt.Fprintln(w, "Dry run: nothing written; run again with --yes (kubelet stopped) to write. A backup of the original is kept.")
	case wr.Written:
		fmt.Fprintf(w, "Written:  %d bytes, read back and verified\nBackup:   %s\n", wr.Bytes, printable(wr.Backup))
	}
}
