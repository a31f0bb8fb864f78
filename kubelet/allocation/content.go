package allocation

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// Content is the decoded state of a pod resource checkpoint of any format,
// normalized for JSON output (check.Result.Content).
type Content struct {
	// Pods lists the pods, sorted by UID.
	Pods []Pod `json:"pods"`
}

// Pod is one pod's recorded resources.
type Pod struct {
	UID string `json:"uid"`
	// Containers are sorted by name.
	Containers []Container `json:"containers"`
	// PodLevelResources are the pod-level resources (1.35+), if any.
	PodLevelResources *Resources `json:"podLevelResources,omitempty"`
	// EmptyDirVolumeLimits maps an emptyDir volume to its size limit
	// (1.37); a nil value is a volume without limit.
	EmptyDirVolumeLimits map[string]*string `json:"emptyDirVolumeLimits,omitempty"`
	// ResizeStatus is the recorded resize status (1.27-1.31).
	ResizeStatus string `json:"resizeStatus,omitempty"`
}

// Container is one container's recorded resources.
type Container struct {
	Name string `json:"name"`
	Resources
}

// Resources are requests, limits and claims, quantities as written.
type Resources struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
	Claims   []string          `json:"claims,omitempty"`
}

func resources(r ResourceRequirements) Resources {
	out := Resources{Requests: list(r.Requests), Limits: list(r.Limits)}
	for _, c := range r.Claims {
		name := c.Name
		if c.Request != "" {
			name += "/" + c.Request
		}
		out.Claims = append(out.Claims, name)
	}
	return out
}

func list(l ResourceList) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = string(v)
	}
	return out
}

func containers(m map[string]ResourceRequirements) []Container {
	out := []Container{}
	for _, name := range sortedKeys(m) {
		out = append(out, Container{Name: name, Resources: resources(m[name])})
	}
	return out
}

func content133(info *PodResourceCheckpointInfo) *Content {
	c := &Content{Pods: []Pod{}}
	for _, uid := range sortedKeys(info.Entries) {
		e := info.Entries[uid]
		p := Pod{UID: uid, Containers: containers(e.ContainerResources)}
		if e.PodLevelResources != nil {
			r := resources(*e.PodLevelResources)
			p.PodLevelResources = &r
		}
		if e.EmptyDirVolumeLimits != nil {
			p.EmptyDirVolumeLimits = map[string]*string{}
			for k, v := range e.EmptyDirVolumeLimits {
				if v == nil {
					p.EmptyDirVolumeLimits[k] = nil
					continue
				}
				s := string(*v)
				p.EmptyDirVolumeLimits[k] = &s
			}
		}
		c.Pods = append(c.Pods, p)
	}
	return c
}

func content132(info *PodResourceAllocationInfo) *Content {
	c := &Content{Pods: []Pod{}}
	for _, uid := range sortedKeys(info.AllocationEntries) {
		c.Pods = append(c.Pods, Pod{UID: uid, Containers: containers(info.AllocationEntries[uid])})
	}
	return c
}

// contentStruct builds the content of a 1.27-1.31 file, where each
// container has one allocated resource list (the requests).
func contentStruct(alloc map[string]map[string]ResourceList, resize map[string]string) *Content {
	c := &Content{Pods: []Pod{}}
	uids := map[string]struct{}{}
	for k := range alloc {
		uids[k] = struct{}{}
	}
	for k := range resize {
		uids[k] = struct{}{}
	}
	for _, uid := range sortedKeys(uids) {
		p := Pod{UID: uid, Containers: []Container{}, ResizeStatus: resize[uid]}
		for _, name := range sortedKeys(alloc[uid]) {
			p.Containers = append(p.Containers, Container{Name: name,
				Resources: Resources{Requests: list(alloc[uid][name]), Limits: map[string]string{}}})
		}
		c.Pods = append(c.Pods, p)
	}
	return c
}

func summary(c *Content) string {
	n := 0
	for _, p := range c.Pods {
		n += len(p.Containers)
	}
	return fmt.Sprintf("%d pod%s, %d container%s", len(c.Pods), plural(len(c.Pods)), n, plural(n))
}

func tables(c *Content) []check.Table {
	t := check.Table{Title: "Allocations", Header: []string{"pod", "container", "requests", "limits"}, Rows: [][]string{}}
	for _, p := range c.Pods {
		for _, ctr := range p.Containers {
			t.Rows = append(t.Rows, []string{p.UID, ctr.Name, render(ctr.Requests), render(ctr.Limits)})
		}
		if p.PodLevelResources != nil {
			t.Rows = append(t.Rows, []string{p.UID, "(pod level)", render(p.PodLevelResources.Requests),
				render(p.PodLevelResources.Limits)})
		}
		if len(p.Containers) == 0 && p.PodLevelResources == nil {
			t.Rows = append(t.Rows, []string{p.UID, "-", "-", "-"})
		}
	}
	return []check.Table{t}
}

// render writes a resource list as "cpu=500m,memory=128Mi" ("-" if empty).
func render(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
