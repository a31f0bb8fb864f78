package prune

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
)

func planDevice(res *Result, data []byte, opts Options) error {
	cp, err := devicemanager.Decode(data)
	if err != nil {
		var de *check.DecodeError
		if errors.As(err, &de) {
			return fmt.Errorf("%w: %w; convert it with ckpt migrate first", ErrUnsupported, err)
		}
		return err
	}
	if opts.Keep == nil {
		return nil
	}
	kept := cp.PodDeviceEntries[:0:0]
	for _, e := range cp.PodDeviceEntries {
		if opts.Keep.Has(e.PodUID) {
			kept = append(kept, e)
			continue
		}
		var ids []string
		for _, node := range slices.Sorted(maps.Keys(e.DeviceIDs)) {
			ids = append(ids, e.DeviceIDs[node]...)
		}
		res.Removed = append(res.Removed, Removal{Pod: e.PodUID, Name: e.ContainerName,
			Holds: e.ResourceName + " " + strings.Join(ids, ",")})
	}
	res.Kept = len(kept)
	if len(res.Removed) == 0 {
		return nil
	}
	if cp.PodDeviceEntries != nil && len(kept) == 0 {
		kept = []devicemanager.PodDevicesEntry{} // kubelet writes no entries as []
	}
	cp.PodDeviceEntries = kept
	res.Changes = append(res.Changes, "the devices of the removed entries become free for new pods (registered devices are unchanged)")
	res.OutputFormat = "v2 (kubelet 1.20+ format)"
	res.Data, err = devicemanager.Encode(*cp)
	return err
}

func planDRA(res *Result, data []byte, opts Options) error {
	cd, err := dra.Decode(data)
	if err != nil {
		var de *check.DecodeError
		if errors.As(err, &de) {
			return fmt.Errorf("%w: %w; a legacy (kubelet <= 1.30) file must be migrated first", ErrUnsupported, err)
		}
		return err
	}
	if opts.Keep == nil {
		return nil
	}
	var kept []dra.ClaimInfoState
	for _, c := range cd.ClaimInfoStateList {
		var gone []string
		for _, pod := range slices.Sorted(maps.Keys(c.PodUIDs)) {
			if !opts.Keep.Has(pod) {
				gone = append(gone, pod)
			}
		}
		name := fmt.Sprintf("claim %s/%s (%s)", c.Namespace, c.ClaimName, c.ClaimUID)
		if len(gone) == 0 {
			kept = append(kept, c)
			continue
		}
		if len(gone) < len(c.PodUIDs) {
			pods := maps.Clone(c.PodUIDs)
			for _, p := range gone {
				delete(pods, p)
				res.Removed = append(res.Removed, Removal{Pod: p, Name: name, Holds: "use of the claim (the claim stays for its other pods)"})
			}
			c.PodUIDs = pods
			kept = append(kept, c)
			continue
		}
		for _, p := range gone {
			res.Removed = append(res.Removed, Removal{Pod: p, Name: name, Holds: describeClaim(c)})
		}
	}
	res.Kept = len(kept)
	if len(res.Removed) == 0 {
		return nil
	}
	if len(kept) == 0 && cd.ClaimInfoStateList != nil {
		kept = nil // kubelet writes no claims as null
	}
	cd.ClaimInfoStateList = kept
	res.Warnings = append(res.Warnings, "kubelet asks the DRA driver to unprepare the claims of pods that are gone "+
		"when it reconciles; a claim dropped here is never unprepared by kubelet: make sure its driver has released "+
		"the devices (or restart the driver's plugin) after pruning")
	res.OutputFormat = "crc32 (kubelet 1.31+ format)"
	res.Data, err = dra.Encode(*cd)
	return err
}

func describeClaim(c dra.ClaimInfoState) string {
	var parts []string
	for _, drv := range slices.Sorted(maps.Keys(c.DriverState)) {
		var devs []string
		for _, d := range c.DriverState[drv].Devices {
			devs = append(devs, d.PoolName+"/"+d.DeviceName)
		}
		parts = append(parts, drv+" "+strings.Join(devs, ","))
	}
	if len(parts) == 0 {
		return "no devices"
	}
	return strings.Join(parts, "; ")
}

func planAllocation(res *Result, data []byte, opts Options) error {
	info, err := allocation.Decode(data)
	if err != nil {
		var de *check.DecodeError
		if errors.As(err, &de) {
			return fmt.Errorf("%w: %w; only allocated_pods_state and actuated_pods_state (kubelet 1.33+) are pruned: "+
				"kubelet 1.33 and later ignore pod_status_manager_state", ErrUnsupported, err)
		}
		return err
	}
	if opts.Keep == nil {
		return nil
	}
	for _, pod := range slices.Sorted(maps.Keys(info.Entries)) {
		if opts.Keep.Has(pod) {
			res.Kept++
			continue
		}
		ctrs := slices.Sorted(maps.Keys(info.Entries[pod].ContainerResources))
		res.Removed = append(res.Removed, Removal{Pod: pod, Name: strings.Join(ctrs, ","), Holds: "recorded resources"})
		delete(info.Entries, pod)
	}
	if len(res.Removed) == 0 {
		return nil
	}
	if len(info.Entries) == 0 {
		info.Entries = nil
	}
	res.OutputFormat = "v1.33 (kubelet 1.33+ format)"
	res.Data, err = allocation.Encode(*info)
	return err
}
