// Package doctor examines a kubelet root directory the way an operator
// would after "kubelet will not start because of a checkpoint", and says for
// each problem what it means and the least destructive command that fixes
// it. It tells apart what the public bug reports behind ckpt's cases kept
// confusing: a corrupt file, a file this kubelet version cannot read, a
// policy change, a machine whose CPUs or memory changed, entries of pods
// deleted while kubelet was down, a leftover temporary file, and a file that
// simply could not be read (permissions, read-only file system).
//
// The rules:
//
//  1. Every finding has a severity (error: kubelet will not start or will
//     misbehave; warning: wrong but tolerated; info: normal), a stable code,
//     one summary line, what it means, and where a fix exists the exact
//     command, with the paths and flags of this run.
//  2. The fix is the least destructive one that works: repair or prune
//     before reset; "drain the node and delete" only when nothing else will
//     do, and then with the exact path.
//  3. A file that could not be read is never called corrupt and never gets
//     deletion advice.
//  4. Checks that need knowledge the run lacks (the kubelet version, its
//     configuration, the machine, the pods on the node) are skipped, and an
//     info finding says which option enables them.
//
// Run reads only; it never writes, never prints and never exits.
package doctor

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

// Severity ranks findings.
type Severity string

// The severities, from worst to mildest.
const (
	// Error: kubelet refuses to start, exits, panics or loses state.
	Error Severity = "error"
	// Warning: something is wrong but kubelet carries on.
	Warning Severity = "warning"
	// Info: normal, or a check that was skipped.
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// The finding codes (stable, for automation).
const (
	CodeAbsent      = "absent"
	CodeOK          = "ok"
	CodeUnreadable  = "unreadable"
	CodeReadOnly    = "read-only"
	CodeNotWritable = "not-writable"
	CodeDiskFull    = "disk-full"
	CodeTempFile    = "leftover-temp-file"
	CodeCorrupt     = "corrupt-checksum"
	CodeInvalid     = "invalid"
	CodeUnknown     = "not-a-checkpoint"
	CodeUnsupported = "unreadable-by-kubelet"
	CodeWithLoss    = "read-with-loss"
	CodePolicy      = "policy-mismatch"
	CodeCPULeaked   = "cpus-leaked"
	CodeCPUDouble   = "cpus-double-assigned"
	CodeCPUMissing  = "cpus-not-on-machine"
	CodeCPUReserved = "reserved-cpus-assigned"
	CodeMemoryDrift = "numa-memory-drift"
	CodeStale       = "stale-entries"
	CodeSkipped     = "check-skipped"
	CodeMode        = "file-mode"
	CodeWrongKind   = "wrong-kind"
	CodePodList     = "pod-list-mismatch"
)

// Finding is one thing the doctor found.
type Finding struct {
	// Severity ranks it.
	Severity Severity `json:"severity"`
	// Code is a stable name for automation.
	Code string `json:"code"`
	// Path is the file or directory concerned, if any.
	Path string `json:"path,omitempty"`
	// Kind is the checkpoint kind concerned, if any.
	Kind check.Kind `json:"kind,omitempty"`
	// Summary says what was found, in one line.
	Summary string `json:"summary"`
	// Meaning says what it means for kubelet and for the pods.
	Meaning string `json:"meaning,omitempty"`
	// Fix is the exact command (or commands, one per line) that fixes it,
	// if one exists.
	Fix string `json:"fix,omitempty"`
	// StopKubelet is set when the fix writes a file kubelet owns, which
	// must be done with kubelet stopped.
	StopKubelet bool `json:"stopKubelet,omitempty"`
	// Details lists the particulars (entries, CPUs, per-node deltas).
	Details []string `json:"details,omitempty"`
	// KubeletLoads is set on a finding about a file's bytes (a checksum)
	// when the kubelet version checked against loads the file all the same
	// (a V4 file whose embedded V2 block alone fails): only other versions
	// (a rollback) would refuse it.
	KubeletLoads bool `json:"kubeletLoads,omitempty"`
}

// File is the status of one well-known or found checkpoint file.
type File struct {
	Path    string        `json:"path"`
	Present bool          `json:"present"`
	Kind    check.Kind    `json:"kind,omitempty"`
	Format  string        `json:"format,omitempty"`
	Verdict check.Verdict `json:"verdict,omitempty"`
	// Status is one line for people: "format cpumanager v1 (...), checksum
	// OK, semantic: CPU 1 missing".
	Status string `json:"status"`
}

// Options say what the doctor may know besides the directory. Every field
// but Dir is optional; a check whose input is missing is skipped.
type Options struct {
	// Dir is kubelet's root directory (/var/lib/kubelet).
	Dir string
	// DevicePluginDir holds kubelet_internal_checkpoint; empty means
	// Dir/device-plugins.
	DevicePluginDir string
	// KubeletVersion is the kubelet that will read the files ("1.37"),
	// empty when unknown.
	KubeletVersion string
	// Config is the kubelet configuration, nil when unknown; ConfigPath is
	// its file (for messages).
	Config     *Config
	ConfigPath string
	// Machine is the node's hardware, nil when unknown; MachineArgs are the
	// ckpt flags that gave it ("--machine m.json"), repeated in fixes.
	Machine     *machine.Machine
	MachineArgs []string
	// Pods are the pods on the node, nil when unknown; PodsArgs are the
	// ckpt flags that gave them ("--pods-from pods.json").
	Pods     prune.Pods
	PodsArgs []string
	// Root reports whether the doctor runs as root (permission findings
	// depend on it); nil means os.Geteuid() == 0.
	Root *bool
}

// Report is what Run found.
type Report struct {
	// Dir is the directory examined.
	Dir string `json:"dir"`
	// KubeletVersion is the version checked against, if any.
	KubeletVersion string `json:"kubeletVersion,omitempty"`
	// Machine is the hardware compared against, if any.
	Machine *machine.Machine `json:"machine,omitempty"`
	// Files are the checkpoint files, well-known ones first.
	Files []File `json:"files"`
	// Findings are sorted by severity, then path.
	Findings []Finding `json:"findings"`
}

// Worst returns the most severe finding's severity (Info when none).
func (r *Report) Worst() Severity {
	w := Info
	for _, f := range r.Findings {
		if f.Severity.rank() < w.rank() {
			w = f.Severity
		}
	}
	return w
}

// loadCodes are the findings about a file kubelet cannot load as it is (or
// loads only in part): its bytes, its checksum, its format or its name.
var loadCodes = []string{CodeCorrupt, CodeInvalid, CodeUnknown, CodeUnsupported, CodeWithLoss, CodeWrongKind}

// CannotLoad reports whether a finding (warning or error) is about a file
// kubelet cannot load as it is: corrupt, invalid, not a checkpoint, under
// the wrong name, or in a format the kubelet version does not read (fully).
// The other findings are about files that load: what they hold against the
// configuration, the machine and the pods, and the directory around them.
func (r *Report) CannotLoad() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool {
		return f.Severity != Info && !f.KubeletLoads && slices.Contains(loadCodes, f.Code)
	})
}

// HasIOProblem reports whether a file or directory could not be read, so
// the report is incomplete.
func (r *Report) HasIOProblem() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Code == CodeUnreadable })
}

// ErrDir is wrapped when the directory itself cannot be examined.
var ErrDir = errors.New("cannot examine the kubelet directory")

// wellKnown are the checkpoints kubelet keeps, relative to its root
// directory, and what their absence means.
var wellKnown = []struct {
	rel    string
	kind   check.Kind
	absent string
}{
	{"cpu_manager_state", check.KindCPU, "no allocations yet: kubelet writes a fresh one at start from its CPU manager policy"},
	{"memory_manager_state", check.KindMemory, "no allocations yet: kubelet writes a fresh one at start from its memory manager policy"},
	{filepath.Join("device-plugins", "kubelet_internal_checkpoint"), check.KindDevice,
		"no allocations yet: kubelet logs \"checkpoint is not found\" for it, which is not why a kubelet fails"},
	{"dra_manager_state", check.KindDRA, "no allocations yet: kubelet creates an empty one at start when DynamicResourceAllocation is on"},
	{"allocated_pods_state", check.KindAllocation, "no allocations yet: kubelet writes it at the first pod resource allocation"},
}

// Run examines opts.Dir. It fails, wrapping ErrDir, only when the directory
// cannot be examined at all; a file that cannot be read is a finding.
func Run(opts Options) (*Report, error) {
	d := &doctor{opts: opts, rep: &Report{Dir: opts.Dir, KubeletVersion: opts.KubeletVersion, Machine: opts.Machine,
		Files: []File{}, Findings: []Finding{}}}
	if d.opts.DevicePluginDir == "" {
		d.opts.DevicePluginDir = filepath.Join(opts.Dir, "device-plugins")
	}
	if opts.KubeletVersion != "" {
		v, err := compat.ParseVersion(opts.KubeletVersion)
		if err != nil {
			return nil, err
		}
		d.version = &v
	}
	info, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrDir, opts.Dir)
	}
	scan, err := kubelet.ScanDir(opts.Dir)
	if err != nil && len(scan.Files) == 0 {
		if errors.Is(err, fs.ErrPermission) {
			d.unreadableDir(opts.Dir, err)
			d.finish()
			return d.rep, nil
		}
		return nil, fmt.Errorf("%w: %w", ErrDir, err)
	}
	d.checkFS()
	for _, w := range wellKnown {
		p := filepath.Join(opts.Dir, w.rel)
		if w.kind == check.KindDevice {
			p = filepath.Join(d.opts.DevicePluginDir, filepath.Base(w.rel))
		}
		d.paths = append(d.paths, p)
	}
	for _, f := range scan.Files {
		if !slices.Contains(d.paths, f.Path) && !inBackupDir(opts.Dir, f.Path) {
			d.paths = append(d.paths, f.Path)
		}
	}
	seen := map[string]bool{}
	for _, w := range wellKnown {
		p := filepath.Join(opts.Dir, w.rel)
		if w.kind == check.KindDevice {
			p = filepath.Join(d.opts.DevicePluginDir, filepath.Base(w.rel))
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			d.rep.Files = append(d.rep.Files, File{Path: p, Status: "absent (normal): " + w.absent})
			d.add(Finding{Severity: Info, Code: CodeAbsent, Path: p, Kind: w.kind, Summary: "absent (normal)", Meaning: w.absent})
			continue
		}
		f := d.findIn(scan, p)
		if f == nil {
			ef, _ := kubelet.ExamineFile(p)
			f = &ef
		}
		seen[f.Path] = true
		d.file(*f)
	}
	for _, f := range scan.Files {
		if !seen[f.Path] && !inBackupDir(opts.Dir, f.Path) {
			d.file(f)
		}
	}
	for _, fd := range scan.Findings {
		d.add(Finding{Severity: Warning, Code: CodeTempFile, Path: fd.Path,
			Summary: fmt.Sprintf("leftover temporary file of an interrupted checkpoint write (%d bytes)", fd.Size),
			Meaning: "kubelet's file store writes a dot-file and renames it over the checkpoint; a crash or a full disk " +
				"leaves it behind. Kubelet never reads it, and the checkpoint beside it is unaffected. It is safe to remove " +
				"once no write is in progress (kubelet stopped, or the file older than a few seconds).",
			Fix: "rm -- " + quote(fd.Path)})
	}
	d.skipped()
	d.finish()
	return d.rep, nil
}

// inBackupDir reports whether path lies in a ckpt-backup directory under
// dir: the backups ckpt's write commands keep are not kubelet's files.
func inBackupDir(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "ckpt-backup")
}

type doctor struct {
	opts    Options
	rep     *Report
	version *compat.Version
	// need records which optional inputs the files found would use.
	need struct{ version, config, cpus, memory, pods bool }
	// paths are the checkpoint files of the run; listMatch caches
	// listMatchesNode.
	paths     []string
	listMatch *bool
}

// checkpointPaths are the checkpoint files of the run.
func (d *doctor) checkpointPaths() []string { return d.paths }

func (d *doctor) add(f Finding) { d.rep.Findings = append(d.rep.Findings, f) }

func (d *doctor) finish() {
	// Within a file, what keeps kubelet from loading it comes first: its
	// fix (migrate, repair) must run before those of what it holds (prune).
	loadFirst := func(f Finding) int {
		if slices.Contains(loadCodes, f.Code) {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(d.rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), strings.Compare(a.Path, b.Path),
			cmp.Compare(loadFirst(a), loadFirst(b)))
	})
}

func (d *doctor) findIn(s kubelet.Scan, path string) *kubelet.File {
	for i := range s.Files {
		if s.Files[i].Path == path {
			return &s.Files[i]
		}
	}
	return nil
}

func (d *doctor) isRoot() bool {
	if d.opts.Root != nil {
		return *d.opts.Root
	}
	return os.Geteuid() == 0
}

// skipped says which checks lacked their input.
func (d *doctor) skipped() {
	var miss []string
	if d.version == nil && d.need.version {
		miss = append(miss, "--kubelet-version (whether this kubelet version can read each file)")
	}
	if d.opts.Config == nil && d.need.config {
		miss = append(miss, "--kubelet-config (policy changes, reserved CPUs and memory, feature gates)")
	}
	if !d.opts.Machine.KnowsCPUs() && d.need.cpus {
		miss = append(miss, "--cpus, --sys or --machine (leaked CPUs and CPUs the machine does not have)")
	}
	if !d.opts.Machine.KnowsMemory() && d.need.memory {
		miss = append(miss, "--sys or --machine (NUMA memory totals)")
	}
	if d.opts.Pods == nil && d.need.pods {
		miss = append(miss, "--pods-from (entries of pods that no longer exist)")
	}
	if len(miss) > 0 {
		d.add(Finding{Severity: Info, Code: CodeSkipped, Summary: "some checks were skipped for lack of input",
			Meaning: "give these options to run them", Details: miss})
	}
}
