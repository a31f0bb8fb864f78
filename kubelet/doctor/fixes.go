package doctor

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

// The fix commands. They name ckpt's own commands with the paths and flags
// of this run, so that they can be copied as they are; a placeholder in
// capitals (PODS, NODE) is the only part left to fill in.

// quote returns s as one shell word.
func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:=@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func join(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quote(a)
	}
	return strings.Join(q, " ")
}

// backupDir is where the write commands keep backups by default: beside
// kubelet's directory, never inside it (for device-plugins/..., beside the
// root above it), as kubelet/fix/safewrite does.
func backupDir(path string) string {
	dir := filepath.Dir(filepath.Clean(path))
	if filepath.Base(dir) == "device-plugins" {
		dir = filepath.Dir(dir)
	}
	return filepath.Join(filepath.Dir(dir), "ckpt-backup")
}

func (d *doctor) selfCommand() string {
	return "ckpt doctor " + quote(d.opts.Dir)
}

// fixLines is a write command twice: first its dry run, then with --yes.
func fixLines(cmd string) string {
	return cmd + "          # dry run: shows what changes\n" + cmd + " --yes"
}

// repairFix recomputes the checksums of a file whose content is right.
func repairFix(path string) string {
	return "ckpt repair " + quote(path) + "          # shows what the new checksums will cover\n" +
		"ckpt repair --yes " + quote(path)
}

// targetVersion is the kubelet version fixes write for: the one checked
// against, else 1.37 (prune writes 1.37's format anyway).
func (d *doctor) targetVersion() compat.Version {
	if d.version != nil {
		return *d.version
	}
	return compat.V(compat.NewestMinor)
}

// policyFix rewrites a checkpoint for another policy, in the format of
// the kubelet version checked against (1.37 when unknown).
func (d *doctor) policyFix(path, policy string, allowLoss bool) string {
	cmd := "ckpt migrate " + quote(path) + " --to-kubelet " + d.targetVersion().String() + " --policy " + quote(policy)
	if allowLoss {
		cmd += " --allow-loss"
	}
	return fixLines(cmd)
}

// pruneFix drops stale entries and reconciles with the machine. A file in
// a layout prune cannot rewrite (a CPU V1 file) is migrated first, so that
// the commands work in the order given.
func (d *doctor) pruneFix(f kubelet.File, pods, mach bool) string {
	cmd := "ckpt prune " + quote(f.Path)
	if pods {
		if len(d.opts.PodsArgs) > 0 {
			cmd += " " + join(d.opts.PodsArgs)
		} else {
			cmd += " --pods-from PODS"
		}
		if d.noMatch(f) {
			cmd += " --allow-no-match"
		}
	}
	if mach {
		if len(d.opts.MachineArgs) > 0 {
			cmd += " " + join(d.opts.MachineArgs)
		} else {
			cmd += " --machine MACHINE.json"
		}
	}
	pre := ""
	if d.needsMigrateFirst(f) {
		m, _ := d.migrateFix(f, d.targetVersion())
		pre = "# prune does not rewrite this layout: migrate it first\n" + m + "\n"
	}
	return pre + fixLines(cmd)
}

// needsMigrateFirst reports whether prune refuses f's layout.
func (d *doctor) needsMigrateFirst(f kubelet.File) bool {
	data, _, err := kubelet.ReadFile(f.Path, 0)
	if err != nil {
		return false
	}
	_, err = prune.Plan(f.Path, data, prune.Options{Keep: prune.Pods{}})
	return errors.Is(err, prune.ErrUnsupported)
}

// moveAsideFix sets a file aside so that kubelet starts from a fresh one.
func moveAsideFix(path string, drain bool) string {
	s := ""
	if drain {
		s = "kubectl drain NODE --ignore-daemonsets --delete-emptydir-data\n"
	}
	b := backupDir(path)
	return s + "mkdir -p " + quote(b) + " && mv " + quote(path) + " " + quote(b) + "/"
}
