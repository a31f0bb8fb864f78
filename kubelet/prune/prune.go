// Package prune drops from a kubelet checkpoint the entries of pods that no
// longer exist, and gives what they held back to the node, the way kubelet
// itself releases a removed container:
//
//   - cpu_manager_state: container, pod-level and baseline entries of stale
//     pods go; their exclusive CPUs return to the default set (unless another
//     remaining holder still has them).
//   - memory_manager_state: container and pod-level blocks of stale pods go;
//     each block's size returns from reserved to free on its NUMA nodes, the
//     nodes' assignment counts drop, and a node left without assignments gets
//     its own cell group back.
//   - kubelet_internal_checkpoint: device allocations of stale pods go.
//   - dra_manager_state: stale pods leave each claim's pod set; a claim with
//     no pod left goes.
//   - allocated_pods_state / actuated_pods_state: entries of stale pods go.
//
// Given a machine description (Options.Machine), it also reconciles a static
// policy's CPU state with the machine (online CPUs that nobody holds return
// to the default set; CPUs the machine lacks leave it; CPUs that a running
// container holds leave the default set) and rebases the memory manager's
// per-NUMA totals on the machine's when every assignment still fits.
//
// Plan computes the new file and says what changes; it never writes. The
// result is always encoded in the format kubelet v1.37.2 writes, which
// older kubelets read too (see Result.OutputFormat). Plan refuses files that
// do not verify (repair them first) and layouts it cannot rewrite without
// losing information (migrate them first).
//
// The package never prints and never exits.
package prune

import (
	"errors"
	"fmt"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/machine"
)

// Errors of Plan, wrapped; test them with errors.Is.
var (
	// ErrNotVerified: the file is corrupt, invalid or unknown; pruning would
	// bless content whose checksum failed.
	ErrNotVerified = errors.New("the file does not verify")
	// ErrUnsupported: the file's layout cannot be pruned in place (a CPU V1
	// file keyed by container ID, a pre-1.20 device file, a legacy DRA or
	// status-manager file); migrate it first.
	ErrUnsupported = errors.New("layout cannot be pruned")
	// ErrNothingToCompare: neither a pod list nor a machine was given.
	ErrNothingToCompare = errors.New("no pod list and no machine given")
	// ErrMachineMismatch: the machine cannot be reconciled with the file
	// without losing assignments (listed in the error).
	ErrMachineMismatch = errors.New("the machine cannot hold the file's assignments")
)

// Options say what exists on the node.
type Options struct {
	// Keep is the set of pods that exist; entries of every other pod are
	// dropped. Nil means the pods are unknown: no entry is dropped.
	Keep Pods
	// Machine, when it knows the CPUs or the NUMA memory, is reconciled
	// with the file (see the package documentation). Nil means no
	// reconciliation.
	Machine *machine.Machine
}

// Removal is one entry that prune drops.
type Removal struct {
	// Pod is the UID of the stale pod.
	Pod string `json:"pod"`
	// Name says what went: a container name, "(pod-level)", a claim
	// "namespace/name (uid)", a resource name.
	Name string `json:"name,omitempty"`
	// Holds says what it held and what becomes free: "CPUs 3-4",
	// "memory 1Gi on NUMA 0", "nvidia.com/gpu GPU-...".
	Holds string `json:"holds,omitempty"`
}

// Result is what pruning a file would change.
type Result struct {
	// Path is the file (as given to Plan).
	Path string `json:"path"`
	// Kind and Format are the file's kind and format.
	Kind   check.Kind `json:"kind"`
	Format string     `json:"format"`
	// OutputFormat is the format of Data and who reads it.
	OutputFormat string `json:"outputFormat,omitempty"`
	// Removed lists the entries dropped, in a stable order.
	Removed []Removal `json:"removed"`
	// Changes lists every other change in words ("default CPU set 0,5-7 ->
	// 0,3-7").
	Changes []string `json:"changes,omitempty"`
	// Warnings are things to know before writing.
	Warnings []string `json:"warnings,omitempty"`
	// Unresolved lists what still keeps kubelet from accepting the file
	// after this prune and what it takes to resolve it (a pod list to give,
	// a pod to delete, a CPU to bring online): prune cannot decide it.
	Unresolved []string `json:"unresolved,omitempty"`
	// NoMatch is set when a pod list was given, entries go, and no pod of
	// the list has an entry in the file: the list may come from another
	// node or be no pod list at all. Callers should refuse to write such a
	// plan without an explicit confirmation.
	NoMatch bool `json:"noMatch,omitempty"`
	// Kept counts the entries that stay.
	Kept int `json:"kept"`
	// Data is the new content of the file, nil when nothing changes.
	Data []byte `json:"-"`
}

// Changed reports whether the file would change.
func (r *Result) Changed() bool { return r.Data != nil }

// Plan computes what pruning the checkpoint data (read from path, which
// names the file and hints at its kind) changes, and the new bytes. It
// never writes.
func Plan(path string, data []byte, opts Options) (*Result, error) {
	if opts.Keep == nil && !opts.Machine.KnowsCPUs() && !opts.Machine.KnowsMemory() {
		return nil, ErrNothingToCompare
	}
	exam := kubelet.Examine(path, data)
	res := &Result{Path: path, Kind: exam.Kind, Format: exam.Format, Removed: []Removal{}}
	if exam.Verdict != check.Valid && exam.Verdict != check.Unverified {
		return nil, fmt.Errorf("%s: %w (%s): %w", path, ErrNotVerified, exam.Verdict, exam.Err)
	}
	var err error
	switch exam.Kind {
	case check.KindCPU:
		err = planCPU(res, data, opts)
	case check.KindMemory:
		err = planMemory(res, data, opts)
	case check.KindDevice:
		err = planDevice(res, data, opts)
	case check.KindDRA:
		err = planDRA(res, data, opts)
	case check.KindAllocation:
		err = planAllocation(res, data, opts)
	default:
		err = fmt.Errorf("%w: %s checkpoints hold no pod entries to prune", ErrUnsupported, exam.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Keep != nil && len(res.Removed) > 0 && res.Kept == 0 && len(opts.Keep) > 0 {
		res.NoMatch = true
		res.Warnings = append(res.Warnings, fmt.Sprintf("none of the %d pods in the list has an entry in the file, so every "+
			"entry would go: check that the list comes from this node", len(opts.Keep)))
	}
	if res.Data != nil {
		after := kubelet.Examine(path, res.Data)
		if after.Verdict != check.Valid {
			// A bug here must never reach the disk.
			return nil, fmt.Errorf("%s: the pruned file does not verify (%s): %w", path, after.Verdict, after.Err)
		}
	}
	return res, nil
}

// Verifier returns the check to run on the file read back after writing
// res.Data: it must examine as valid, of the same kind.
func Verifier(res *Result) func([]byte) error {
	return func(b []byte) error {
		r := kubelet.Examine(res.Path, b)
		if r.Verdict != check.Valid {
			return fmt.Errorf("written file is %s: %w", r.Verdict, r.Err)
		}
		if r.Kind != res.Kind {
			return fmt.Errorf("written file is a %s checkpoint, not %s", r.Kind, res.Kind)
		}
		return nil
	}
}
