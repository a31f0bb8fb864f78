package dra

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	s129 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv129/state"
	s130 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv130/state"
	smaster "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvmaster/state"
	snoh "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvnohandles/state"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/sets"
)

// Content is the decoded state of a DRA checkpoint of any format,
// normalized for JSON output (check.Result.Content).
type Content struct {
	// Claims lists the prepared claims in file order.
	Claims []Claim `json:"claims"`
	// Drivers lists every driver named by a claim, sorted.
	Drivers []string `json:"drivers"`
	// Pods lists every pod UID that uses a claim, sorted.
	Pods []string `json:"pods"`
	// Devices counts the prepared devices (crc32 and master layouts).
	Devices int `json:"devices"`
}

// Claim is one prepared ResourceClaim.
type Claim struct {
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Pods are the UIDs of the pods using the claim, sorted.
	Pods []string `json:"pods"`
	// DriverName and ClassName are set by the legacy 1.27-1.30 layouts.
	DriverName string `json:"driverName,omitempty"`
	ClassName  string `json:"className,omitempty"`
	// ResourceHandles are set by the 1.28-1.30 layouts.
	ResourceHandles []ResourceHandle `json:"resourceHandles,omitempty"`
	// Drivers lists what each driver prepared, sorted by driver.
	Drivers []ClaimDriver `json:"drivers"`
}

// ResourceHandle is a legacy opaque resource handle.
type ResourceHandle struct {
	DriverName string `json:"driverName"`
	Data       string `json:"data"`
	// Structured is true when the handle carries 1.30 structured data.
	Structured bool `json:"structured,omitempty"`
}

// ClaimDriver is what one driver prepared for a claim.
type ClaimDriver struct {
	Driver  string        `json:"driver"`
	Devices []ClaimDevice `json:"devices,omitempty"`
	// CDIDeviceIDs are the legacy per-driver CDI devices (1.27-1.30).
	CDIDeviceIDs       []string `json:"cdiDeviceIDs,omitempty"`
	SkipNodeOperations []string `json:"skipNodeOperations,omitempty"`
}

// ClaimDevice is one prepared device.
type ClaimDevice struct {
	Pool         string   `json:"pool"`
	Device       string   `json:"device"`
	ShareID      string   `json:"shareID,omitempty"`
	Requests     []string `json:"requests"`
	CDIDeviceIDs []string `json:"cdiDeviceIDs"`
}

func contentCRC32(cd *CheckpointData) *Content {
	c := &Content{Claims: []Claim{}}
	for _, ci := range cd.ClaimInfoStateList {
		cl := Claim{UID: ci.ClaimUID, Namespace: ci.Namespace, Name: ci.ClaimName, Pods: keys(ci.PodUIDs), Drivers: []ClaimDriver{}}
		for _, drv := range sortedKeys(ci.DriverState) {
			ds := ci.DriverState[drv]
			d := ClaimDriver{Driver: drv, SkipNodeOperations: ds.SkipNodeOperations}
			for _, dev := range ds.Devices {
				cdev := ClaimDevice{Pool: dev.PoolName, Device: dev.DeviceName, Requests: list(dev.RequestNames),
					CDIDeviceIDs: list(dev.CDIDeviceIDs)}
				if dev.ShareID != nil {
					cdev.ShareID = *dev.ShareID
				}
				d.Devices = append(d.Devices, cdev)
			}
			cl.Drivers = append(cl.Drivers, d)
		}
		c.Claims = append(c.Claims, cl)
	}
	return finishContent(c)
}

func content130(cp *s130.DRAManagerCheckpoint) *Content {
	c := &Content{Claims: []Claim{}}
	for _, ci := range cp.Entries {
		cl := legacyClaim(string(ci.ClaimUID), ci.Namespace, ci.ClaimName, ci.DriverName, ci.ClassName, ci.PodUIDs, ci.CDIDevices)
		for _, h := range ci.ResourceHandles {
			cl.ResourceHandles = append(cl.ResourceHandles, ResourceHandle{DriverName: h.DriverName, Data: h.Data,
				Structured: h.StructuredData != nil})
		}
		c.Claims = append(c.Claims, cl)
	}
	return finishContent(c)
}

func content129(cp *s129.DRAManagerCheckpoint) *Content {
	c := &Content{Claims: []Claim{}}
	for _, ci := range cp.Entries {
		cl := legacyClaim(string(ci.ClaimUID), ci.Namespace, ci.ClaimName, ci.DriverName, ci.ClassName, ci.PodUIDs, ci.CDIDevices)
		for _, h := range ci.ResourceHandles {
			cl.ResourceHandles = append(cl.ResourceHandles, ResourceHandle{DriverName: h.DriverName, Data: h.Data})
		}
		c.Claims = append(c.Claims, cl)
	}
	return finishContent(c)
}

func contentNoHandles(cp *snoh.DRAManagerCheckpoint) *Content {
	c := &Content{Claims: []Claim{}}
	for _, ci := range cp.Entries {
		c.Claims = append(c.Claims,
			legacyClaim(string(ci.ClaimUID), ci.Namespace, ci.ClaimName, ci.DriverName, ci.ClassName, ci.PodUIDs, ci.CDIDevices))
	}
	return finishContent(c)
}

func contentMaster(cp *smaster.DRAManagerCheckpoint) *Content {
	c := &Content{Claims: []Claim{}}
	for _, ci := range cp.Entries {
		cl := Claim{UID: string(ci.ClaimUID), Namespace: ci.Namespace, Name: ci.ClaimName, Pods: sets.List(ci.PodUIDs),
			Drivers: []ClaimDriver{}}
		for _, drv := range sortedKeys(ci.DriverState) {
			d := ClaimDriver{Driver: drv}
			for _, dev := range ci.DriverState[drv].Devices {
				d.Devices = append(d.Devices, ClaimDevice{Pool: dev.PoolName, Device: dev.DeviceName,
					Requests: list(dev.RequestNames), CDIDeviceIDs: list(dev.CDIDeviceIDs)})
			}
			cl.Drivers = append(cl.Drivers, d)
		}
		c.Claims = append(c.Claims, cl)
	}
	return finishContent(c)
}

func legacyClaim(uid, ns, name, driver, class string, pods sets.Set[string], cdi map[string][]string) Claim {
	cl := Claim{UID: uid, Namespace: ns, Name: name, DriverName: driver, ClassName: class, Pods: sets.List(pods),
		Drivers: []ClaimDriver{}}
	for _, drv := range sortedKeys(cdi) {
		cl.Drivers = append(cl.Drivers, ClaimDriver{Driver: drv, CDIDeviceIDs: list(cdi[drv])})
	}
	if len(cl.Drivers) == 0 && driver != "" {
		cl.Drivers = append(cl.Drivers, ClaimDriver{Driver: driver})
	}
	return cl
}

// finishContent fills the summary lists.
func finishContent(c *Content) *Content {
	drivers, pods := map[string]struct{}{}, map[string]struct{}{}
	for _, cl := range c.Claims {
		for _, p := range cl.Pods {
			pods[p] = struct{}{}
		}
		if cl.DriverName != "" {
			drivers[cl.DriverName] = struct{}{}
		}
		for _, d := range cl.Drivers {
			drivers[d.Driver] = struct{}{}
			c.Devices += len(d.Devices)
		}
		for _, h := range cl.ResourceHandles {
			if h.DriverName != "" {
				drivers[h.DriverName] = struct{}{}
			}
		}
	}
	c.Drivers, c.Pods = keys(drivers), keys(pods)
	return c
}

func summary(c *Content) string {
	return fmt.Sprintf("%d claim%s, %d pod%s, %d driver%s, %d device%s", len(c.Claims), plural(len(c.Claims)),
		len(c.Pods), plural(len(c.Pods)), len(c.Drivers), plural(len(c.Drivers)), c.Devices, plural(c.Devices))
}

func tables(c *Content) []check.Table {
	claims := check.Table{Title: "Claims", Header: []string{"claim uid", "namespace/name", "pods"}, Rows: [][]string{}}
	devs := check.Table{Title: "Devices", Header: []string{"claim", "driver", "pool", "device", "request", "CDI IDs"},
		Rows: [][]string{}}
	for _, cl := range c.Claims {
		ref := cl.Namespace + "/" + cl.Name
		claims.Rows = append(claims.Rows, []string{cl.UID, ref, strings.Join(cl.Pods, ",")})
		for _, d := range cl.Drivers {
			if len(d.Devices) == 0 {
				devs.Rows = append(devs.Rows, []string{ref, d.Driver, "-", "-", "-", strings.Join(d.CDIDeviceIDs, ",")})
			}
			for _, dev := range d.Devices {
				devs.Rows = append(devs.Rows, []string{ref, d.Driver, dev.Pool, dev.Device,
					strings.Join(dev.Requests, ","), strings.Join(dev.CDIDeviceIDs, ",")})
			}
		}
	}
	return []check.Table{claims, devs}
}

func keys[V any](m map[string]V) []string {
	out := sortedKeys(m)
	if out == nil {
		return []string{}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// containsFold reports whether data contains sub, ignoring ASCII case; it
// looks at the first 64 KiB only, to stay cheap on large files.
func containsFold(data []byte, sub string) bool {
	if len(data) > 64<<10 {
		data = data[:64<<10]
	}
	return bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(sub)))
}
