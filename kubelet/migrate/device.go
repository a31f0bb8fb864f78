package migrate

import (
	"fmt"
	"sort"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
)

func planDevice(p *Plan, data []byte, res check.Result, opts Options) ([]string, error) {
	if opts.To.Minor <= 19 {
		p.To = devicemanager.FormatPre120
		if res.Format == devicemanager.FormatPre120 {
			cp, err := devicemanager.DecodePre120(data)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
			}
			p.Data, err = devicemanager.EncodePre120(*cp)
			return nil, err
		}
		cp, err := devicemanager.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
		}
		var lost []string
		out := devicemanager.CheckpointPre120{RegisteredDevices: cp.RegisteredDevices}
		for _, e := range cp.PodDeviceEntries {
			nodes := make([]int64, 0, len(e.DeviceIDs))
			for n := range e.DeviceIDs {
				nodes = append(nodes, n)
			}
			sort.Slice(nodes, func(i, j int) bool { return nodes[i] < nodes[j] })
			ids := []string{}
			for _, n := range nodes {
				ids = append(ids, e.DeviceIDs[n]...)
				if n != 0 && len(e.DeviceIDs[n]) > 0 {
					lost = append(lost, fmt.Sprintf("NUMA node %d of devices %v of %s/%s (%s); a 1.20-1.30 reader puts them on node 0",
						n, e.DeviceIDs[n], e.PodUID, e.ContainerName, e.ResourceName))
				}
			}
			out.PodDeviceEntries = append(out.PodDeviceEntries, devicemanager.PodDevicesEntryPre120{
				PodUID: e.PodUID, ContainerName: e.ContainerName, ResourceName: e.ResourceName, DeviceIDs: ids, AllocResp: e.AllocResp})
		}
		p.Changes = append(p.Changes, fmt.Sprintf("%d entries flattened to the pre-1.20 device list", len(out.PodDeviceEntries)))
		p.Data, err = devicemanager.EncodePre120(out)
		return lost, err
	}

	p.To = devicemanager.FormatV2
	if res.Format == devicemanager.FormatV2 {
		cp, err := devicemanager.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
		}
		p.Data, err = devicemanager.Encode(*cp)
		return nil, err
	}
	old, err := devicemanager.DecodePre120(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
	}
	if opts.NUMANode == nil && len(old.PodDeviceEntries) > 0 {
		return nil, fmt.Errorf("%w: %d entries (%s); the pre-1.20 layout records none. Choose the node the devices "+
			"are on (kubelet 1.20-1.30 assumed 0) with --numa", ErrNeedNUMA, len(old.PodDeviceEntries), entryNames(old))
	}
	cp := devicemanager.Checkpoint{PodDeviceEntries: []devicemanager.PodDevicesEntry{}, RegisteredDevices: old.RegisteredDevices}
	for _, e := range old.PodDeviceEntries {
		cp.PodDeviceEntries = append(cp.PodDeviceEntries, devicemanager.PodDevicesEntry{
			PodUID: e.PodUID, ContainerName: e.ContainerName, ResourceName: e.ResourceName,
			DeviceIDs: devicemanager.DevicesPerNUMA{*opts.NUMANode: e.DeviceIDs}, AllocResp: e.AllocResp})
	}
	if len(old.PodDeviceEntries) > 0 {
		p.Changes = append(p.Changes, fmt.Sprintf("%d entries converted to the 1.20+ layout with every device on NUMA node %d "+
			"(the operator's choice)", len(old.PodDeviceEntries), *opts.NUMANode))
	}
	p.Data, err = devicemanager.Encode(cp)
	return nil, err
}

func entryNames(cp *devicemanager.CheckpointPre120) string {
	s := ""
	for i, e := range cp.PodDeviceEntries {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s/%s %s %v", e.PodUID, e.ContainerName, e.ResourceName, e.DeviceIDs)
	}
	return s
}
