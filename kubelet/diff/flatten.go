package diff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// flatten turns a result's content into items.
func flatten(r check.Result) ([]item, error) {
	var out []item
	add := func(section, key, value string) { out = append(out, item{section, key, value}) }
	switch c := r.Content.(type) {
	case *cpumanager.Content:
		add("policy", "policy", c.PolicyName)
		add("default set", "default CPU set", c.DefaultCPUSet)
		for pod, ctrs := range c.Entries {
			for ctr, set := range ctrs {
				add("entries", pod+"/"+ctr, set)
			}
		}
		for id, set := range c.ContainerEntries {
			add("container entries (V1)", id, set)
		}
		for pod, set := range c.PodEntries {
			add("pod entries", pod, set)
		}
		for pod, ctrs := range c.Baselines {
			for ctr, set := range ctrs {
				add("baselines", pod+"/"+ctr, set)
			}
		}
	case *memorymanager.Content:
		add("policy", "policy", c.PolicyName)
		for n, ns := range c.MachineState {
			node := strconv.Itoa(n)
			if ns == nil {
				add("NUMA memory", node, "null")
				continue
			}
			add("NUMA memory", node+" assignments", strconv.Itoa(ns.NumberOfAssignments))
			add("NUMA memory", node+" cells", ints(ns.Cells))
			for res, t := range ns.MemoryMap {
				k := node + " " + string(res) + " "
				if t == nil {
					add("NUMA memory", k+"table", "null")
					continue
				}
				add("NUMA memory", k+"total", byteCount(t.TotalMemSize))
				add("NUMA memory", k+"systemReserved", byteCount(t.SystemReserved))
				add("NUMA memory", k+"allocatable", byteCount(t.Allocatable))
				add("NUMA memory", k+"reserved", byteCount(t.Reserved))
				add("NUMA memory", k+"free", byteCount(t.Free))
			}
		}
		for pod, ctrs := range c.Entries {
			for ctr, blocks := range ctrs {
				add("memory blocks", pod+"/"+ctr, blockList(blocks))
			}
		}
		for pod, e := range c.PodEntries {
			add("pod memory blocks", pod, blockList(e.MemoryBlocks))
		}
	case *devicemanager.Content:
		for res, ids := range c.RegisteredDevices {
			add("registered devices", res, strings.Join(sorted(ids), ","))
		}
		seen := map[string]int{}
		for _, a := range c.Allocations {
			key := a.PodUID + "/" + a.ContainerName + " " + a.ResourceName
			seen[key]++
			if seen[key] > 1 {
				key += fmt.Sprintf(" #%d", seen[key])
			}
			var parts []string
			for _, n := range a.Devices {
				node := "?"
				if n.NUMANode != nil {
					node = strconv.FormatInt(*n.NUMANode, 10)
				}
				parts = append(parts, "NUMA "+node+": "+strings.Join(n.DeviceIDs, ","))
			}
			add("device allocations", key, strings.Join(parts, "; ")+fmt.Sprintf(" (allocResp %d bytes)", a.AllocRespBytes))
		}
	case *dra.Content:
		for _, cl := range c.Claims {
			k := cl.Namespace + "/" + cl.Name + " (" + cl.UID + ")"
			add("claims", k+" pods", strings.Join(cl.Pods, ","))
			for _, drv := range cl.Drivers {
				var devs []string
				for _, dv := range drv.Devices {
					s := dv.Pool + "/" + dv.Device
					if dv.ShareID != "" {
						s += " share " + dv.ShareID
					}
					s += " requests " + strings.Join(dv.Requests, ",") + " cdi " + strings.Join(dv.CDIDeviceIDs, ",")
					devs = append(devs, s)
				}
				v := strings.Join(devs, "; ")
				if len(drv.CDIDeviceIDs) > 0 {
					v += " cdi " + strings.Join(drv.CDIDeviceIDs, ",")
				}
				if len(drv.SkipNodeOperations) > 0 {
					v += " skip " + strings.Join(drv.SkipNodeOperations, ",")
				}
				add("claims", k+" driver "+drv.Driver, v)
			}
			for i, h := range cl.ResourceHandles {
				add("claims", fmt.Sprintf("%s handle %d", k, i), h.DriverName+" "+h.Data)
			}
		}
	case *allocation.Content:
		for _, p := range c.Pods {
			for _, ctr := range p.Containers {
				add("pods", p.UID+"/"+ctr.Name, resources(ctr.Resources))
			}
			if p.PodLevelResources != nil {
				add("pods", p.UID+" (pod-level)", resources(*p.PodLevelResources))
			}
			for _, vol := range sortedKeys(p.EmptyDirVolumeLimits) {
				v := "no limit"
				if q := p.EmptyDirVolumeLimits[vol]; q != nil {
					v = *q
				}
				add("pods", p.UID+" emptyDir "+vol, v)
			}
			if p.ResizeStatus != "" {
				add("pods", p.UID+" resize status", p.ResizeStatus)
			}
		}
	default:
		return nil, fmt.Errorf("%w: %s checkpoints are not compared", ErrNoContent, r.Kind)
	}
	return out, nil
}

// detail explains a changed value: CPUs moved in and out of a set, a
// memory figure's delta.
func detail(section, from, to string) string {
	switch section {
	case "default set", "entries", "pod entries", "baselines", "container entries (V1)":
		a, err1 := cpuset.Parse(from)
		b, err2 := cpuset.Parse(to)
		if err1 != nil || err2 != nil {
			return ""
		}
		var parts []string
		if add := b.Difference(a); !add.IsEmpty() {
			parts = append(parts, "+CPUs "+add.String())
		}
		if rm := a.Difference(b); !rm.IsEmpty() {
			parts = append(parts, "-CPUs "+rm.String())
		}
		return strings.Join(parts, ", ")
	case "NUMA memory":
		a, err1 := strconv.ParseUint(strings.Fields(from + " x")[0], 10, 64)
		b, err2 := strconv.ParseUint(strings.Fields(to + " x")[0], 10, 64)
		if err1 != nil || err2 != nil {
			return ""
		}
		return machine.FormatDelta(a, b)
	}
	return ""
}

func byteCount(b uint64) string {
	return strconv.FormatUint(b, 10) + " (" + machine.FormatBytes(b) + ")"
}

func ints(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func blockList(blocks []memorymanager.Block) string {
	var parts []string
	for _, b := range blocks {
		parts = append(parts, fmt.Sprintf("%s %s on NUMA %s", b.Type, machine.FormatBytes(b.Size), ints(b.NUMAAffinity)))
	}
	return strings.Join(parts, "; ")
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

func resources(r allocation.Resources) string {
	var parts []string
	for _, k := range sortedKeys(r.Requests) {
		parts = append(parts, "requests."+k+"="+r.Requests[k])
	}
	for _, k := range sortedKeys(r.Limits) {
		parts = append(parts, "limits."+k+"="+r.Limits[k])
	}
	if len(r.Claims) > 0 {
		parts = append(parts, "claims="+strings.Join(r.Claims, ","))
	}
	return strings.Join(parts, " ")
}
