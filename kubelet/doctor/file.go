package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// file examines one checkpoint file and adds its findings.
func (d *doctor) file(f kubelet.File) {
	if f.ReadErr != nil {
		d.unreadable(f)
		return
	}
	r := f.Result
	st := File{Path: f.Path, Present: true, Kind: r.Kind, Format: r.Format, Verdict: r.Verdict}
	d.need.version = true
	if r.Kind == check.KindCPU || r.Kind == check.KindMemory {
		d.need.config = true
	}
	var semantic []string
	switch r.Verdict {
	case check.Valid, check.Unverified:
		sum := "checksum OK"
		if r.Verdict == check.Unverified {
			sum = "no checksum to verify (stored 0)"
		}
		semantic = d.semantics(f)
		st.Status = fmt.Sprintf("format %s %s (%s), %s", shortKind(r.Kind), r.Format, shortDesc(r.Description), sum)
		if len(semantic) > 0 {
			st.Status += ", semantic: " + strings.Join(semantic, "; ")
		}
		d.compat(f)
		d.checkMode(f.Path)
	case check.Corrupt:
		st.Status = fmt.Sprintf("format %s %s, %s", shortKind(r.Kind), r.Format, corruptPhrase(r))
		d.corrupt(f)
	case check.Invalid:
		st.Status = fmt.Sprintf("invalid %s checkpoint: %v", shortKind(r.Kind), r.Err)
		d.invalid(f)
	default:
		st.Status = "not a kubelet checkpoint"
		d.add(Finding{Severity: Warning, Code: CodeUnknown, Path: f.Path, Summary: "a file with a checkpoint's name that is no kubelet checkpoint",
			Meaning: fmt.Sprintf("ckpt recognises no kubelet checkpoint in it (%v); kubelet will fail to read it as one", r.Err),
			Fix:     "ckpt inspect " + quote(f.Path)})
	}
	d.rep.Files = append(d.rep.Files, st)
}

func shortKind(k check.Kind) string {
	switch k {
	case check.KindCPU:
		return "cpu"
	case check.KindMemory:
		return "memory"
	case check.KindDevice:
		return "device"
	}
	return string(k)
}

// shortDesc keeps the first parenthesis of a description, which names the
// kubelet versions: "written by kubelet <= 1.17; ...".
func shortDesc(desc string) string {
	if i := strings.Index(desc, "("); i >= 0 {
		if j := strings.Index(desc[i:], ")"); j > 0 {
			return desc[i+1 : i+j]
		}
	}
	return desc
}

// corruptPhrase says "corrupt checksum (expected C, found S)" for each
// checksum that fails; a file whose layout is ambiguous lists each
// candidate rule.
func corruptPhrase(r check.Result) string {
	var parts []string
	for _, c := range r.Checksums {
		if c.OK || c.Unverified {
			continue
		}
		p := fmt.Sprintf("(expected %d, found %d)", c.Computed, c.Stored)
		if c.Field != "checksum" && c.Field != "Checksum" {
			p = c.Field + " " + p
		}
		parts = append(parts, p+" under "+c.Rule)
	}
	if len(parts) == 0 {
		return "corrupt checksum"
	}
	return "corrupt checksum " + strings.Join(parts, "; or ")
}

// kubeletReaction says what kubelet does with an unreadable checkpoint of
// kind k, in its own words where they are known (FORMATS.md §3).
func kubeletReaction(k check.Kind, path string) string {
	switch k {
	case check.KindCPU:
		return "kubelet refuses to start: \"could not restore state from checkpoint: ..., please drain this node and delete " +
			"the CPU manager checkpoint file\""
	case check.KindMemory:
		return "kubelet refuses to start: \"could not restore state from checkpoint: ..., please drain this node and delete " +
			"the memory manager checkpoint file\""
	case check.KindDevice:
		return "kubelet logs \"Continue after failing to read checkpoint file. Device allocation info may NOT be up-to-date\" " +
			"and runs on without the device allocations of running pods; it overwrites the file at its next write"
	case check.KindDRA:
		return "with DynamicResourceAllocation on (the default from 1.34) kubelet exits at start: \"failed to get checkpoint " +
			"dra_manager_state: checkpoint is corrupted\""
	case check.KindAllocation:
		if filepath.Base(path) == allocation.StatusFileName {
			return "kubelet 1.33 and later ignore this file; 1.27-1.32 with InPlacePodVerticalScaling panic at start"
		}
		return "with InPlacePodVerticalScaling on (the default from 1.33) kubelet panics at start (\"could not restore state " +
			"from checkpoint\") or fails to initialise its runtime manager"
	case check.KindDockershim:
		return "dockershim (kubelet <= 1.23) deletes an unreadable sandbox checkpoint"
	}
	return "kubelet cannot use it"
}

// unreadable reports a file that could not be read at all (rule 3: never
// deletion advice).
func (d *doctor) unreadable(f kubelet.File) {
	d.rep.Files = append(d.rep.Files, File{Path: f.Path, Present: true, Status: "unreadable: " + f.ReadErr.Error()})
	fd := Finding{Severity: Error, Code: CodeUnreadable, Path: f.Path, Kind: kubelet.KindFromPath(f.Path),
		Summary: "cannot be read: " + f.ReadErr.Error()}
	switch {
	case errors.Is(f.ReadErr, fs.ErrPermission) && !d.isRoot():
		fd.Meaning = "ckpt runs as a user that may not read it; kubelet runs as root and may well read it. This says nothing " +
			"about the file's content: it is not corrupt, and must not be deleted."
		fd.Fix = "sudo " + d.selfCommand()
	case errors.Is(f.ReadErr, fs.ErrPermission):
		fd.Meaning = "even root may not read it: its mode, a security label (SELinux, AppArmor) or an immutable attribute " +
			"forbids it, and kubelet fails the same way (it may then say \"please drain this node and delete the ... " +
			"checkpoint file\": do not; the content is unknown, not corrupt). Kubelet writes its checkpoints as root with mode 0600."
		fd.Fix = "ls -lZ " + quote(f.Path) + "\nlsattr " + quote(f.Path) + "\nchown root:root " + quote(f.Path) + " && chmod 0600 " + quote(f.Path)
	case errors.Is(f.ReadErr, kubelet.ErrNotRegular):
		fd.Meaning = "kubelet expects a regular file here; it will fail to read its checkpoint"
		fd.Fix = "ls -l " + quote(f.Path)
	default:
		fd.Meaning = "an I/O error: check the disk and the kernel log (dmesg) before anything else; the content is unknown, not corrupt"
		fd.Fix = "dmesg | tail -50"
	}
	d.add(fd)
}

func (d *doctor) unreadableDir(dir string, err error) {
	fd := Finding{Severity: Error, Code: CodeUnreadable, Path: dir, Summary: "the directory cannot be listed: " + err.Error(),
		Meaning: "nothing inside could be examined; this says nothing about the checkpoints themselves"}
	if !d.isRoot() {
		fd.Fix = "sudo " + d.selfCommand()
	} else {
		fd.Fix = "ls -ldZ " + quote(dir)
	}
	d.add(fd)
}

// corrupt reports a checksum failure with what the readable payload holds.
func (d *doctor) corrupt(f kubelet.File) {
	r := f.Result
	fd := Finding{Severity: Error, Code: CodeCorrupt, Path: f.Path, Kind: r.Kind, Summary: corruptPhrase(r),
		Meaning: kubeletReaction(r.Kind, f.Path) + ". The content still decodes: "}
	held := holdings(r)
	if len(held) == 0 {
		fd.Meaning += "it holds no assignment, so recomputing the checksum (or a fresh file) loses nothing and no pod is affected."
		fd.Fix = repairFix(f.Path)
		fd.StopKubelet = true
	} else {
		fd.Details = held
		fd.Meaning += "a checksum mismatch means the content changed after kubelet wrote it (a hand edit, or damage). If the " +
			"entries listed are what runs on the node, recompute the checksum; resetting the file instead would forget them " +
			"while their pods run."
		fd.Fix = repairFix(f.Path)
		fd.StopKubelet = true
		if r.Kind == check.KindDRA {
			fd.Meaning += " For DRA, kubelet does not prepare a running claim again after a reset."
		}
	}
	if r.Kind == check.KindDevice {
		fd.Severity = Warning
	}
	d.add(fd)
}

// invalid reports a file that does not decode.
func (d *doctor) invalid(f kubelet.File) {
	r := f.Result
	fd := Finding{Severity: Error, Code: CodeInvalid, Path: f.Path, Kind: r.Kind, Summary: fmt.Sprint(r.Err)}
	var de *check.DecodeError
	if errors.As(r.Err, &de) && de.Problem.Durability() {
		fd.Meaning = "the file was not completely written to disk (" + string(de.Problem) + "): a write not synced before " +
			"a crash or power loss, not a checksum mismatch. "
	}
	fd.Meaning += kubeletReaction(r.Kind, f.Path) + "."
	switch r.Kind {
	case check.KindDevice:
		fd.Severity = Warning
		fd.Meaning += " Nothing needs to be done for kubelet to run; ckpt-backup copies, if any, hold the last good state."
		d.add(fd)
		return
	case check.KindAllocation:
		if filepath.Base(f.Path) == allocation.StatusFileName {
			fd.Severity = Warning
		}
	}
	// Nothing readable is left to keep: this is where moving the file
	// aside is the only way, and pods with exclusive resources must be
	// restarted first.
	fd.Meaning += " Its content cannot be recovered; kubelet writes a fresh file when none exists, but it then forgets " +
		"what running pods hold: drain the node first so that they restart."
	fd.Fix = moveAsideFix(f.Path, true)
	fd.StopKubelet = true
	d.add(fd)
}

// holdings lists what a decoded checkpoint holds per pod, for people.
func holdings(r check.Result) []string {
	var out []string
	switch c := r.Content.(type) {
	case *cpumanager.Content:
		for _, pod := range sortedKeys(c.Entries) {
			for _, ctr := range sortedKeys(c.Entries[pod]) {
				out = append(out, fmt.Sprintf("%s/%s: CPUs %s", pod, ctr, c.Entries[pod][ctr]))
			}
		}
		for _, pod := range sortedKeys(c.PodEntries) {
			out = append(out, fmt.Sprintf("%s (pod-level): CPUs %s", pod, c.PodEntries[pod]))
		}
		for _, id := range sortedKeys(c.ContainerEntries) {
			out = append(out, fmt.Sprintf("container %s: CPUs %s", id, c.ContainerEntries[id]))
		}
	case *memorymanager.Content:
		for _, pod := range sortedKeys(c.Entries) {
			for _, ctr := range sortedKeys(c.Entries[pod]) {
				out = append(out, fmt.Sprintf("%s/%s: %d memory blocks", pod, ctr, len(c.Entries[pod][ctr])))
			}
		}
		for _, pod := range sortedKeys(c.PodEntries) {
			out = append(out, fmt.Sprintf("%s (pod-level): %d memory blocks", pod, len(c.PodEntries[pod].MemoryBlocks)))
		}
	case *dra.Content:
		for _, cl := range c.Claims {
			var devs []string
			for _, drv := range cl.Drivers {
				for _, dv := range drv.Devices {
					devs = append(devs, drv.Driver+" "+dv.Pool+"/"+dv.Device)
				}
			}
			out = append(out, fmt.Sprintf("claim %s/%s (%s) used by pods %s: %s", cl.Namespace, cl.Name, cl.UID,
				strings.Join(cl.Pods, ","), strings.Join(devs, ", ")))
		}
	case *allocation.Content:
		for _, p := range c.Pods {
			out = append(out, fmt.Sprintf("pod %s: %d containers", p.UID, len(p.Containers)))
		}
	case *devicemanager.Content:
		for _, a := range c.Allocations {
			var ids []string
			for _, n := range a.Devices {
				ids = append(ids, n.DeviceIDs...)
			}
			out = append(out, fmt.Sprintf("%s/%s: %s %s", a.PodUID, a.ContainerName, a.ResourceName, strings.Join(ids, ",")))
		}
	}
	return out
}

// compat reports a file the configured kubelet version cannot read, or
// reads with loss.
func (d *doctor) compat(f kubelet.File) {
	if d.version == nil {
		return
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return
	}
	rep := compat.FromResult(f.Path, data, f.Result)
	cell, ok := rep.Lookup(*d.version, d.gates())
	if !ok {
		return
	}
	switch cell.Outcome {
	case compat.Reject:
		fd := Finding{Severity: Warning, Code: CodeUnsupported, Path: f.Path, Kind: f.Result.Kind,
			Summary: fmt.Sprintf("kubelet %s cannot read this %s file (%s): %s", d.version, f.Result.Format,
				cell.GateLabel(), cell.Reason),
			Meaning: "the file is intact, but written in a format this kubelet version does not read",
			Fix:     migrateFix(f, d.version.String()), StopKubelet: true}
		if cell.Fatal {
			fd.Severity = Error
			fd.Meaning += "; " + kubeletReaction(f.Result.Kind, f.Path)
		}
		d.add(fd)
	case compat.AcceptWithLoss:
		d.add(Finding{Severity: Warning, Code: CodeWithLoss, Path: f.Path, Kind: f.Result.Kind,
			Summary: fmt.Sprintf("kubelet %s reads this file but drops part of it", d.version),
			Meaning: cell.Reason, Details: cell.Lost, Fix: migrateFix(f, d.version.String()), StopKubelet: true})
	}
}

func (d *doctor) gates() compat.Gates {
	g := compat.Gates{}
	if d.opts.Config == nil {
		return g
	}
	for _, name := range []compat.Gate{compat.PodLevelResourceManagers, compat.InPlacePodVerticalScaling, compat.DynamicResourceAllocation} {
		if on, set := d.opts.Config.Gate(string(name)); set {
			g[name] = on
		}
	}
	return g
}
