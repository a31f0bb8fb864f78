package compat

import (
	"strings"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
)

const allocExit = "a kubelet (with InPlacePodVerticalScaling on) that rejects this file panics or fails to start (the allocation state is required with InPlacePodVerticalScaling on)"

// allocationLadder returns the ladder for a pod resource checkpoint; name
// is the file's base name, which decides which kubelet versions read it.
func allocationLadder(res check.Result, name string) ladder {
	ok := res.Verdict == check.Valid || res.Verdict == check.Unverified
	reason := msgCorrupted
	if res.Err != nil {
		reason = res.Err.Error()
	}
	status := strings.HasPrefix(name, allocation.StatusFileName)
	if !status && !strings.HasPrefix(name, allocation.AllocatedFileName) && !strings.HasPrefix(name, allocation.ActuatedFileName) {
		// An unnamed file: judge it by its format.
		status = res.Format != allocation.FormatData133
	}
	c, _ := res.Content.(*allocation.Content)
	var podLevel, emptyDir []string
	if c != nil {
		for _, p := range c.Pods {
			if p.PodLevelResources != nil {
				podLevel = append(podLevel, p.UID)
			}
			if len(p.EmptyDirVolumeLimits) > 0 {
				emptyDir = append(emptyDir, p.UID)
			}
		}
	}
	return func(v Version, on bool) Cell {
		if v.Minor <= 26 {
			return notRead("no pod resource checkpoint before kubelet 1.27")
		}
		if status {
			if v.Minor >= 33 {
				return notRead("kubelet 1.33+ abandoned pod_status_manager_state: it neither reads nor deletes it")
			}
			if !on {
				return notRead("InPlacePodVerticalScaling is off: the file is not read")
			}
			want := allocation.FormatStruct127
			if v.Minor == 32 {
				want = allocation.FormatData132
			}
			if res.Format != want {
				return reject(msgCorrupted+" (kubelet "+v.String()+" reads pod_status_manager_state in the "+want+" format, this file is "+res.Format+")", true)
			}
			if !ok {
				return reject(reason, true)
			}
			return accept(res.Format)
		}
		if v.Minor <= 32 {
			return notRead("kubelet before 1.33 does not know this file name")
		}
		if !on {
			return notRead("InPlacePodVerticalScaling is off: the file is not read")
		}
		if res.Format != allocation.FormatData133 {
			return acceptLoss(res.Format, []string{"every entry: kubelet 1.33+ reads \"entries\", this file holds 1.32 \"allocationEntries\""})
		}
		if !ok {
			return reject(reason, true)
		}
		var lost []string
		if v.Minor <= 34 && len(podLevel) > 0 {
			lost = append(lost, "pod-level resources of "+listSome(podLevel)+" (unknown before 1.35)")
		}
		if v.Minor <= 36 && len(emptyDir) > 0 {
			lost = append(lost, "emptyDir volume limits of "+listSome(emptyDir)+" (unknown before 1.37)")
		}
		return acceptLoss(res.Format, lost)
	}
}
