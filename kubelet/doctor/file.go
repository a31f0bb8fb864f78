package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
	"github.com/ckptkit/ckpt/kubelet/migrate"
	"github.com/ckptkit/ckpt/kubelet/repair"
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
		st.Status = fmt.Sprintf("invalid %s checkpoint: %v", shortKind(pathKind(f)), r.Err)
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
// What kubelet does with it is compat's answer for the version checked
// against: a V4 file whose embedded V2 block alone fails is read by 1.37
// (from data) and refused by 1.18-1.36 only.
func (d *doctor) corrupt(f kubelet.File) {
	r := f.Result
	fd := Finding{Severity: Error, Code: CodeCorrupt, Path: f.Path, Kind: r.Kind, Summary: corruptPhrase(r),
		Meaning: kubeletReaction(r.Kind, f.Path) + ". The content still decodes: "}
	if rep, ok := d.compatReport(f); ok {
		if cell, ok := rep.Lookup(*d.version, d.gates()); ok && cell.Outcome == compat.Accept {
			fd.Severity, fd.KubeletLoads = Warning, true
			fd.Meaning = fmt.Sprintf("kubelet %s reads this file all the same (as %s) and starts; %s would not (%s). "+
				"The content still decodes: ", d.version, cell.ReadsAs, versionsRejecting(rep), kubeletReaction(r.Kind, f.Path))
		} else {
			fd.Meaning = fmt.Sprintf("kubelet %s does not read it: %s. The content still decodes: ", d.version,
				kubeletReaction(r.Kind, f.Path))
		}
	}
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

// compatReport is the compatibility of a file, when a kubelet version is
// given to check against.
func (d *doctor) compatReport(f kubelet.File) (compat.Report, bool) {
	if d.version == nil {
		return compat.Report{}, false
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return compat.Report{}, false
	}
	return compat.FromResult(f.Path, data, f.Result), true
}

// versionsRejecting says which versions reject the file (with default
// gates), "no version" when none does.
func versionsRejecting(rep compat.Report) string {
	var rej []string
	for _, v := range compat.Versions() {
		if c, ok := rep.Lookup(v, compat.Gates{}); ok && c.Outcome == compat.Reject {
			rej = append(rej, v.String())
		}
	}
	switch len(rej) {
	case 0:
		return "no other version"
	case 1:
		return "kubelet " + rej[0]
	}
	return "kubelet " + rej[0] + " to " + rej[len(rej)-1] + " (a rollback)"
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// pathKind is the kind kubelet reads a file as: by its name, else by its
// content.
func pathKind(f kubelet.File) check.Kind {
	if k := kubelet.KindFromPath(f.Path); k != check.KindUnknown {
		return k
	}
	return f.Result.Kind
}

// invalid reports a file that does not decode.
func (d *doctor) invalid(f kubelet.File) {
	r := f.Result
	if d.wrongKind(f) {
		return
	}
	kind := pathKind(f)
	fd := Finding{Severity: Error, Code: CodeInvalid, Path: f.Path, Kind: kind, Summary: fmt.Sprint(r.Err)}
	var de *check.DecodeError
	isDE := errors.As(r.Err, &de)
	switch {
	case isDE && de.Problem == check.ProblemTrailing && int64(de.Size) == f.Size:
		fd.Meaning = "bytes follow a complete document (" + string(de.Problem) + "): a write that did not replace the " +
			"whole file, or damage after a crash or power loss, not a checksum mismatch. "
	case isDE && de.Problem.Durability() && int64(de.Size) == f.Size:
		// The file's own bytes end short: a torn write. (The same
		// problem inside a data string is not the disk's doing.)
		fd.Meaning = "the file was not completely written to disk (" + string(de.Problem) + "): a write not synced before " +
			"a crash or power loss, not a checksum mismatch. "
	case isDE && int64(de.Size) != f.Size:
		fd.Meaning = "the file is complete JSON, but not a checkpoint kubelet can load (" + de.What + ": " + string(de.Problem) +
			"): not a write cut short by a crash; something other than kubelet wrote or edited it. "
	}
	fd.Meaning += sentence(kubeletReaction(kind, f.Path)) + "."
	if data, _, err := kubelet.ReadFile(f.Path, 0); err == nil {
		if lead, ok := repair.Salvage(f.Path, data); ok {
			fd.Meaning += fmt.Sprintf(" The file starts with a complete checkpoint of %d bytes that verifies; what follows "+
				"is the tail of an older, longer one. Keeping the leading document restores exactly what kubelet last "+
				"wrote: nothing is lost and no pod is affected.", len(lead))
			fd.Fix = "ckpt repair " + quote(f.Path) + "          # shows what it keeps\nckpt repair --yes " + quote(f.Path)
			fd.StopKubelet = true
			d.add(fd)
			return
		}
	}
	switch kind {
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
	fd.StopKubelet = true
	if why := d.holdsNothing(f, kind); why != "" {
		fd.Meaning += " Its content cannot be recovered, but " + why + ": a fresh file, which kubelet writes when none " +
			"exists, loses nothing. No drain is needed."
		fd.Fix = moveAsideFix(f.Path, false)
		d.add(fd)
		return
	}
	// Nothing readable is left to keep: this is where moving the file
	// aside is the only way, and pods with exclusive resources must be
	// restarted first.
	fd.Meaning += " Its content cannot be recovered; kubelet writes a fresh file when none exists, but it then forgets " +
		"what running pods hold: drain the node first so that they restart."
	fd.Fix = moveAsideFix(f.Path, true)
	d.add(fd)
}

// holdsNothing says why an unreadable CPU or memory manager file held no
// exclusive assignment, or "" when it may have: a "none" policy keeps
// none, and the policy is what the bytes that are left say, else what the
// configuration says (the kubelet that wrote the file ran with it).
func (d *doctor) holdsNothing(f kubelet.File, kind check.Kind) string {
	var none, configured string
	switch kind {
	case check.KindCPU:
		none = "none"
		if d.opts.Config != nil {
			configured = d.opts.Config.CPUManagerPolicy
		}
	case check.KindMemory:
		none = "None"
		if d.opts.Config != nil {
			configured = d.opts.Config.MemoryManagerPolicy
		}
	default:
		return ""
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return ""
	}
	if m, ok := check.Find(check.ScanObject(data), "policyName"); ok && m.First == '"' {
		var policy string
		if json.Unmarshal(m.Raw, &policy) != nil {
			// Cut inside the value: what is left of it ("Stat") still
			// tells the policies apart, unless nothing is.
			policy = strings.TrimPrefix(string(m.Raw), `"`)
		}
		switch {
		case strings.EqualFold(policy, none):
			return fmt.Sprintf("what is left of it names the %q policy, which holds no exclusive assignment", policy)
		case policy != "" && strings.HasPrefix(strings.ToLower(none), strings.ToLower(policy)):
			return fmt.Sprintf("what is left of its policy name (%q) can only be %q, which holds no exclusive assignment", policy, none)
		case policy != "":
			return ""
		}
	}
	if strings.EqualFold(configured, none) {
		return fmt.Sprintf("the configured policy is %q, which holds no exclusive assignment", configured)
	}
	return ""
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
// reads with loss, with the migrate command that fixes it as it must be
// run (with --allow-loss, and what that loses, when it loses state).
func (d *doctor) compat(f kubelet.File) {
	rep, ok := d.compatReport(f)
	if !ok {
		return
	}
	cell, ok := rep.Lookup(*d.version, d.gates())
	if !ok {
		return
	}
	var fd Finding
	switch cell.Outcome {
	case compat.Reject:
		fd = Finding{Severity: Warning, Code: CodeUnsupported, Path: f.Path, Kind: f.Result.Kind,
			Summary: fmt.Sprintf("kubelet %s cannot read this %s file (%s): %s", d.version, f.Result.Format,
				cell.GateLabel(), cell.Reason),
			Meaning: "the file is intact, but written in a format this kubelet version does not read"}
		if cell.Fatal {
			fd.Severity = Error
			fd.Meaning += "; " + kubeletReaction(f.Result.Kind, f.Path)
		}
	case compat.AcceptWithLoss:
		fd = Finding{Severity: Warning, Code: CodeWithLoss, Path: f.Path, Kind: f.Result.Kind,
			Summary: fmt.Sprintf("kubelet %s reads this file but drops part of it", d.version),
			Meaning: cell.Reason, Details: cell.Lost}
		if cell.Fatal {
			fd.Severity = Error
			fd.Summary += ", and then refuses to start"
		}
	default:
		return
	}
	fix, lost := d.migrateFix(f, *d.version)
	if len(lost) > 0 {
		fd.Meaning = joinSentences(fd.Meaning, fmt.Sprintf("The file kubelet %s reads cannot hold all of the state: "+
			"migrate needs --allow-loss, and drops %s. Their pods keep running without what they lose; restart them "+
			"(after kubelet starts) to have it assigned again.", d.version, strings.Join(lost, "; ")))
	}
	fd.Fix, fd.StopKubelet = fix, true
	d.add(fd)
}

func joinSentences(a, b string) string {
	if a == "" {
		return b
	}
	return strings.TrimRight(a, ".") + ". " + b
}

// migrateFix is the migrate command that rewrites f for kubelet v, as it
// must be run: doctor plans the migration itself, so that the command
// carries --allow-loss when the migration loses state (returned: what it
// loses), and placeholders for the facts it needs (container IDs, a NUMA
// node).
func (d *doctor) migrateFix(f kubelet.File, v compat.Version) (string, []string) {
	cmd := "ckpt migrate " + quote(f.Path) + " --to-kubelet " + v.String()
	var gates []string
	for _, g := range slices.Sorted(maps.Keys(d.gates())) {
		gates = append(gates, fmt.Sprintf("%s=%v", g, d.gates()[g]))
	}
	if len(gates) > 0 {
		cmd += " --feature-gates " + strings.Join(gates, ",")
	}
	var lost []string
	if data, _, err := kubelet.ReadFile(f.Path, 0); err == nil {
		_, err := migrate.Prepare(f.Path, data, migrate.Options{To: v, Gates: d.gates()})
		var le *migrate.LossError
		switch {
		case errors.As(err, &le):
			lost = le.Lost
		case errors.Is(err, migrate.ErrNeedContainers):
			cmd += " --containers CONTAINERS.json" // crictl ps -a -o json
		case errors.Is(err, migrate.ErrNeedNUMA):
			cmd += " --numa NUMA_NODE"
		}
	}
	if len(lost) > 0 {
		cmd += " --allow-loss"
	}
	return fixLines(cmd), lost
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

// wellKnownPath is where kubelet keeps the checkpoint of kind k under this
// run's directories ("" for kinds without one place).
func (d *doctor) wellKnownPath(k check.Kind) string {
	for _, w := range wellKnown {
		if w.kind != k {
			continue
		}
		if k == check.KindDevice {
			return filepath.Join(d.opts.DevicePluginDir, filepath.Base(w.rel))
		}
		return filepath.Join(d.opts.Dir, w.rel)
	}
	return ""
}

// wrongKind reports an intact checkpoint of one kind under another kind's
// file name (a memory manager file saved as cpu_manager_state, say), and
// reports true; kubelet fails to load it, but nothing is lost: it only has
// to go back where it belongs. When two files were swapped, the fix is on
// the first of the two (by path), so that following both findings does not
// swap them back.
func (d *doctor) wrongKind(f kubelet.File) bool {
	r := f.Result
	named := kubelet.KindFromPath(f.Path)
	if named == check.KindUnknown || r.Kind == named || r.Format == "" {
		return false
	}
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return false
	}
	// The content must be intact as what it is, wherever it is read from.
	own := d.wellKnownPath(r.Kind)
	if own == "" {
		return false
	}
	if res := kubelet.Examine(own, data); res.Kind != r.Kind || (res.Verdict != check.Valid && res.Verdict != check.Unverified) {
		return false
	}
	fd := Finding{Severity: Error, Code: CodeWrongKind, Path: f.Path, Kind: named,
		Summary: fmt.Sprintf("a %s checkpoint (format %s, intact) under the %s checkpoint's name", managerName(r.Kind),
			r.Format, managerName(named)),
		Meaning: fmt.Sprintf("%s. The file is not damaged: it belongs at %s. Moving it back loses nothing; no drain is needed.",
			kubeletReaction(named, f.Path), own),
		StopKubelet: true}
	other := kubelet.File{Path: own}
	_, statErr := os.Lstat(own)
	if od, _, err := kubelet.ReadFile(own, 0); err == nil {
		other.Result = kubelet.Examine(own, od)
	}
	switch {
	case errors.Is(statErr, fs.ErrNotExist):
		// Nothing at its own place: move it there; kubelet writes a
		// fresh file under this name.
		fd.Meaning += fmt.Sprintf(" Kubelet then writes a fresh %s checkpoint under %s.", managerName(named), filepath.Base(f.Path))
		fd.Fix = "mv -- " + quote(f.Path) + " " + quote(own)
	case other.Result.Kind == named && (other.Result.Verdict == check.Valid || other.Result.Verdict == check.Unverified ||
		other.Result.Verdict == check.Invalid):
		// The other file holds this name's kind: the two were swapped.
		fd.Meaning += fmt.Sprintf(" The %s checkpoint that belongs here is at %s: the two files were swapped.",
			managerName(named), own)
		if f.Path < own {
			tmp := f.Path + ".ckpt-swap"
			fd.Fix = "mv -- " + quote(f.Path) + " " + quote(tmp) + " && mv -- " + quote(own) + " " + quote(f.Path) +
				" && mv -- " + quote(tmp) + " " + quote(own)
		} else {
			fd.Fix = "# one command swaps both files back: see the finding for " + own
		}
	default:
		fd.Meaning += fmt.Sprintf(" Another file is at %s (%s %s): compare the two before moving either.", own,
			other.Result.Kind, other.Result.Verdict)
		fd.Fix = "ckpt inspect " + quote(f.Path) + "\nckpt inspect " + quote(own)
	}
	d.add(fd)
	return true
}

// managerName names the kubelet component that owns a kind of checkpoint.
func managerName(k check.Kind) string {
	switch k {
	case check.KindCPU:
		return "CPU manager"
	case check.KindMemory:
		return "memory manager"
	case check.KindDevice:
		return "device manager"
	case check.KindDRA:
		return "DRA manager"
	case check.KindAllocation:
		return "pod allocation"
	}
	return string(k)
}
