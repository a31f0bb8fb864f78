package doctor

import (
	"path/filepath"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
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
// kubelet's directory, never inside it.
func backupDir(path string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(path)), "ckpt-backup")
}

func (d *doctor) selfCommand() string {
	return "ckpt doctor " + quote(d.opts.Dir)
}

// repairFix recomputes the checksums of a file whose content is right.
func repairFix(path string) string {
	return "ckpt repair " + quote(path) + "          # shows what the new checksums will cover\n" +
		"ckpt repair --yes " + quote(path)
}

// migrateFix rewrites a file for a kubelet version.
func migrateFix(f kubelet.File, version string) string {
	cmd := "ckpt migrate " + quote(f.Path) + " --to-kubelet " + version
	if f.Result.Kind == check.KindCPU && f.Result.Format == cpumanager.FormatV1 {
		if c, ok := f.Result.Content.(*cpumanager.Content); ok && len(c.ContainerEntries) > 0 {
			cmd += " --containers CONTAINERS.json"
		}
	}
	return cmd + "          # dry run: shows what changes\n" + cmd + " --yes"
}

// policyFix rewrites a checkpoint for another policy, in the format of
// the kubelet version checked against (1.37 when unknown).
func (d *doctor) policyFix(path, policy string, allowLoss bool) string {
	version := "1.37"
	if d.version != nil {
		version = d.version.String()
	}
	cmd := "ckpt migrate " + quote(path) + " --to-kubelet " + version + " --policy " + quote(policy)
	if allowLoss {
		cmd += " --allow-loss"
	}
	return cmd + "          # dry run: shows what changes\n" + cmd + " --yes"
}

// pruneFix drops stale entries and reconciles with the machine.
func (d *doctor) pruneFix(path string, pods, mach bool) string {
	cmd := "ckpt prune " + quote(path)
	if pods {
		if len(d.opts.PodsArgs) > 0 {
			cmd += " " + join(d.opts.PodsArgs)
		} else {
			cmd += " --pods-from PODS"
		}
	}
	if mach {
		if len(d.opts.MachineArgs) > 0 {
			cmd += " " + join(d.opts.MachineArgs)
		} else {
			cmd += " --machine MACHINE.json"
		}
	}
	return cmd + "          # dry run: shows what changes\n" + cmd + " --yes"
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
