package main

import (
	"fmt"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
	"github.com/ckptkit/ckpt/kubelet/picture"
)

// The picture section of `inspect`: the CPU manager's CPUs as a grid with
// the owner of each CPU, the memory manager's NUMA nodes as bars.
func init() {
	inspectSections = append(inspectSections, inspectSection{Key: "picture", Title: "Picture:", Render: renderPicture})
}

func renderPicture(f kubelet.File, opts inspectOptions) (string, any, bool) {
	switch c := f.Result.Content.(type) {
	case *cpumanager.Content:
		m, note := pictureMachine(opts)
		g, err := picture.NewCPUGrid(c, m)
		if err != nil {
			return "no picture: " + err.Error() + "\n", nil, true
		}
		return note + g.Render(opts.Color), g, true
	case *memorymanager.Content:
		mb := picture.NewMemoryBars(c)
		return mb.Render(opts.Color), mb, true
	}
	return "", nil, false
}

// pictureMachine is the machine to place CPUs on: --topology (a
// machine.json, which may also name the online CPUs, or `lscpu -p`
// output), else the topology of --sys. The online CPUs of --sys are not
// used: the file may come from another node, and only the topology helps
// draw it.
func pictureMachine(opts inspectOptions) (*machine.Machine, string) {
	if opts.Topology != "" {
		m, err := machine.ReadFile(opts.Topology)
		if err != nil {
			return nil, fmt.Sprintf("(topology not used: %v)\n", err)
		}
		return m, ""
	}
	if opts.Sys == "" {
		return nil, ""
	}
	m, err := machine.ReadSys(opts.Sys)
	if err != nil {
		return nil, ""
	}
	m.OnlineCPUs, m.NUMA = "", nil
	return m, ""
}
