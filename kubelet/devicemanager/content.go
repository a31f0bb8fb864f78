package devicemanager

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/devicemanager/internal/checkpoint"
)

// Content is the decoded state of a device manager checkpoint, normalized
// for JSON output (check.Result.Content).
type Content struct {
	// RegisteredDevices maps a resource name to its registered device IDs.
	RegisteredDevices map[string][]string `json:"registeredDevices"`
	// Allocations lists the allocations in file order.
	Allocations []Allocation `json:"allocations"`
}

// Allocation is one container's allocation of one resource.
type Allocation struct {
	PodUID        string `json:"podUID"`
	ContainerName string `json:"containerName"`
	ResourceName  string `json:"resourceName"`
	// Devices groups the device IDs by NUMA node, in ascending node order.
	Devices []NUMADevices `json:"devices"`
	// AllocRespBytes is the size of the serialized ContainerAllocateResponse.
	AllocRespBytes int `json:"allocRespBytes"`
}

// NUMADevices lists the devices allocated on one NUMA node.
type NUMADevices struct {
	// NUMANode is nil when the layout does not record it (pre-1.20).
	NUMANode *int64 `json:"numaNode"`
	// DeviceIDs are the devices, in file order.
	DeviceIDs []string `json:"deviceIDs"`
}

func contentV2(d *checkpoint.Data) *Content {
	c := &Content{RegisteredDevices: nonNil(d.RegisteredDevices()), Allocations: []Allocation{}}
	for _, e := range d.Entries() {
		a := Allocation{PodUID: e.PodUID, ContainerName: e.ContainerName, ResourceName: e.ResourceName,
			Devices: []NUMADevices{}, AllocRespBytes: len(e.AllocResp)}
		nodes := make([]int64, 0, len(e.DeviceIDs))
		for n := range e.DeviceIDs {
			nodes = append(nodes, n)
		}
		sort.Slice(nodes, func(i, j int) bool { return nodes[i] < nodes[j] })
		for _, n := range nodes {
			n := n
			a.Devices = append(a.Devices, NUMADevices{NUMANode: &n, DeviceIDs: nonNilList(e.DeviceIDs[n])})
		}
		c.Allocations = append(c.Allocations, a)
	}
	return c
}

func contentV1(d *checkpoint.DataV1) *Content {
	c := &Content{RegisteredDevices: nonNil(d.RegisteredDevices()), Allocations: []Allocation{}}
	for _, e := range d.Entries() {
		c.Allocations = append(c.Allocations, Allocation{PodUID: e.PodUID, ContainerName: e.ContainerName,
			ResourceName: e.ResourceName, AllocRespBytes: len(e.AllocResp),
			Devices: []NUMADevices{{DeviceIDs: nonNilList(e.DeviceIDs)}}})
	}
	return c
}

func tables(c *Content) []check.Table {
	reg := check.Table{Title: "Registered devices", Header: []string{"resource", "count", "devices"}, Rows: [][]string{}}
	names := make([]string, 0, len(c.RegisteredDevices))
	for n := range c.RegisteredDevices {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		devs := c.RegisteredDevices[n]
		reg.Rows = append(reg.Rows, []string{n, strconv.Itoa(len(devs)), strings.Join(devs, ",")})
	}
	alloc := check.Table{Title: "Allocations", Header: []string{"pod", "container", "resource", "NUMA node", "devices"},
		Rows: [][]string{}}
	for _, a := range c.Allocations {
		if len(a.Devices) == 0 {
			alloc.Rows = append(alloc.Rows, []string{a.PodUID, a.ContainerName, a.ResourceName, "-", ""})
		}
		for _, d := range a.Devices {
			node := "unknown"
			if d.NUMANode != nil {
				node = strconv.FormatInt(*d.NUMANode, 10)
			}
			alloc.Rows = append(alloc.Rows, []string{a.PodUID, a.ContainerName, a.ResourceName, node,
				strings.Join(d.DeviceIDs, ",")})
		}
	}
	return []check.Table{reg, alloc}
}

func nonNil(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// containsFold reports whether data contains sub, ignoring ASCII case; it
// looks at the first 64 KiB only, to stay cheap on large files.
func containsFold(data []byte, sub string) bool {
	if len(data) > 64<<10 {
		data = data[:64<<10]
	}
	return bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(sub)))
}
