package migrate

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/dra"
)

func planDRA(p *Plan, res check.Result, opts Options) ([]string, error) {
	v := opts.To
	if err := requireGate(p, compat.DynamicResourceAllocation, v, opts); err != nil {
		return nil, err
	}
	c, ok := res.Content.(*dra.Content)
	if !ok {
		return nil, fmt.Errorf("%w: no content", ErrSourceUnreadable)
	}
	if v.Minor <= 30 {
		if v.Minor <= 26 {
			return nil, fmt.Errorf("%w: kubelet %s keeps no DRA checkpoint", ErrUnsupported, v)
		}
		// The legacy formats need a class name and resource handles, which
		// the current format does not record: a downgrade cannot be made
		// faithfully. An empty checkpoint can (it holds nothing).
		if len(c.Claims) > 0 {
			return nil, fmt.Errorf("%w: kubelet %s reads only the legacy DRA format, which needs each claim's class name and "+
				"resource handles; %d prepared claims lack them. Unprepare the claims (drain the node) instead", ErrUnsupported, v, len(c.Claims))
		}
		return nil, fmt.Errorf("%w: kubelet %s reads only the legacy DRA format; with no prepared claims, delete the file "+
			"instead (kubelet creates an empty one)", ErrUnsupported, v)
	}
	p.To = dra.FormatCRC32
	cd := dra.CheckpointData{}
	var lost, dropped []string
	for _, cl := range c.Claims {
		ci := dra.ClaimInfoState{ClaimUID: cl.UID, ClaimName: cl.Name, Namespace: cl.Namespace, PodUIDs: map[string]struct{}{}}
		for _, pod := range cl.Pods {
			ci.PodUIDs[pod] = struct{}{}
		}
		if len(cl.Drivers) > 0 {
			ci.DriverState = map[string]dra.DriverState{}
		}
		for _, d := range cl.Drivers {
			ds := dra.DriverState{}
			if v.Minor >= 37 {
				ds.SkipNodeOperations = d.SkipNodeOperations
			} else if len(d.SkipNodeOperations) > 0 {
				lost = append(lost, fmt.Sprintf("skipNodeOperations %v of claim %s/%s driver %s (unknown before 1.37)",
					d.SkipNodeOperations, cl.Namespace, cl.Name, d.Driver))
			}
			for _, dev := range d.Devices {
				nd := dra.Device{PoolName: dev.Pool, DeviceName: dev.Device, RequestNames: dev.Requests, CDIDeviceIDs: dev.CDIDeviceIDs}
				if dev.ShareID != "" {
					if v.Minor >= 34 {
						id := dev.ShareID
						nd.ShareID = &id
					} else {
						lost = append(lost, fmt.Sprintf("ShareID %s of device %s/%s in claim %s/%s (unknown before 1.34)",
							dev.ShareID, dev.Pool, dev.Device, cl.Namespace, cl.Name))
					}
				}
				ds.Devices = append(ds.Devices, nd)
			}
			if len(d.Devices) == 0 && len(d.CDIDeviceIDs) > 0 {
				// Legacy claims record CDI devices per driver, not devices:
				// keep them on one device whose pool and name are unknown.
				// RequestNames [] rather than null: the current format read back
				// lists it as [] (see dra.Content), so a second migration of
				// the result finds nothing to change.
				ds.Devices = append(ds.Devices, dra.Device{RequestNames: []string{}, CDIDeviceIDs: d.CDIDeviceIDs})
				dropped = append(dropped, fmt.Sprintf("claim %s/%s driver %s: pool and device names (the legacy format "+
					"records none; the CDI devices %v are kept on one unnamed device)", cl.Namespace, cl.Name, d.Driver, d.CDIDeviceIDs))
			}
			ci.DriverState[d.Driver] = ds
		}
		if cl.DriverName != "" || cl.ClassName != "" {
			dropped = append(dropped, fmt.Sprintf("claim %s/%s: DriverName %q and ClassName %q (no such fields since 1.31)",
				cl.Namespace, cl.Name, cl.DriverName, cl.ClassName))
		}
		for _, h := range cl.ResourceHandles {
			what := "opaque data"
			if h.Structured {
				what = "structured data"
			}
			dropped = append(dropped, fmt.Sprintf("claim %s/%s: resource handle of driver %s with %s %q (no such field since 1.31)",
				cl.Namespace, cl.Name, h.DriverName, what, h.Data))
		}
		cd.ClaimInfoStateList = append(cd.ClaimInfoStateList, ci)
	}
	p.Dropped = dropped
	if res.Format != dra.FormatCRC32 {
		p.Changes = append(p.Changes, fmt.Sprintf("legacy %s format -> crc32 format of kubelet 1.31+; %d claims with their UID, "+
			"name, namespace, pods and CDI devices", res.Format, len(cd.ClaimInfoStateList)))
	}
	var err error
	p.Data, err = dra.Encode(cd)
	return lost, err
}

// requireGate makes sure the target reads the file: a kind read only with
// gate on is migrated for the gate on (the default here), and refused when
// the caller set the gate off.
func requireGate(p *Plan, g compat.Gate, v compat.Version, opts Options) error {
	if on, set := opts.Gates[g]; set && !on {
		return fmt.Errorf("%w: kubelet %s with %s off does not read this file", ErrUnsupported, v, g)
	}
	if _, exists := compat.GateDefault(g, v); !exists {
		return nil
	}
	if p.gates == nil || !p.gates.On(g, v) {
		gs := compat.Gates{}
		for k, on := range p.gates {
			gs[k] = on
		}
		gs[g] = true
		p.gates = gs
		if p.Gates == nil {
			p.Gates = map[string]bool{}
		}
		p.Gates[string(g)] = true
	}
	return nil
}
