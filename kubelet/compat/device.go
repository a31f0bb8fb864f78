package compat

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
)

// deviceCarryOn is how kubelet reacts when it cannot read the device
// checkpoint: it logs and starts with empty device state.
const deviceCarryOn = "a kubelet that rejects this file does not stop: it logs \"Continue after failing to read checkpoint file\" and starts with EMPTY device " +
	"state: these allocations are forgotten until the device plugins re-register"

// deviceLadder returns the ladder for kubelet_internal_checkpoint.
func deviceLadder(res check.Result) ladder {
	if res.Verdict != check.Valid && res.Verdict != check.Unverified {
		return rejectAll(res, false)
	}
	c, _ := res.Content.(*devicemanager.Content)
	n := 0
	if c != nil {
		n = len(c.Allocations)
	}
	if res.Format == devicemanager.FormatPre120 {
		return func(v Version, _ bool) Cell {
			switch {
			case v.Minor <= 19:
				return accept("pre-1.20 layout")
			case v.Minor <= 30:
				cell := accept("pre-1.20 layout through the V1 fallback")
				cell.Reason = "every device is put on NUMA node 0; 1.20-1.22 patch releases without the fix of " +
					"kubernetes#102882 cannot decode it"
				return cell
			default:
				return reject(fmt.Sprintf("json: cannot unmarshal array into Go struct field PodDevicesEntry.Data."+
					"PodDeviceEntries.DeviceIDs of type checkpoint.DevicesPerNUMA (kubelet 1.31 dropped the pre-1.20 "+
					"fallback); %d allocation(s) lost", n), false)
			}
		}
	}
	return func(v Version, _ bool) Cell {
		if v.Minor <= 19 && n > 0 {
			return reject("json: cannot unmarshal object into Go struct field PodDevicesEntry.Data.PodDeviceEntries."+
				"DeviceIDs of type []string (kubelet <= 1.19 knows only the flat list)", false)
		}
		return accept("v2 layout")
	}
}

// dockershimLadder returns the ladder for a dockershim sandbox checkpoint.
func dockershimLadder(res check.Result) ladder {
	ok := res.Verdict == check.Valid || res.Verdict == check.Unverified
	reason := "unreadable"
	if res.Err != nil {
		reason = res.Err.Error()
	}
	return func(v Version, _ bool) Cell {
		if v.Minor >= 24 {
			return notRead("dockershim was removed in kubelet 1.24")
		}
		if ok {
			c := accept(res.Format)
			c.Reason = "only with the docker runtime (dockershim)"
			return c
		}
		return reject(reason, false)
	}
}

// dockershimDeletes is what dockershim does with a checkpoint it rejects.
const dockershimDeletes = "dockershim DELETES a sandbox checkpoint it cannot read (sandbox/<id> under /var/lib/dockershim)"
