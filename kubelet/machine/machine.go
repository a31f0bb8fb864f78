// Package machine describes the hardware a kubelet checkpoint must agree with:
// the online CPUs and their topology (socket, core, NUMA node) that the CPU
// manager hands out, and the memory per NUMA node that the memory manager
// accounts for. It reads them from a sysfs tree (/sys on a node), from the
// machine.json files of ckpt's cases, or from `lscpu -p` output.
//
// A Machine may know only part of this: OnlineCPUs empty means the CPUs are
// unknown, NUMA empty means the memory is unknown, CPUs empty means the
// topology is unknown. Callers check before they compare.
//
// The package never prints and never exits.
package machine

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// ErrMachine is wrapped by every error about a machine description that
// cannot be read or makes no sense.
var ErrMachine = errors.New("bad machine description")

// Machine is what ckpt knows of a node's hardware. Its JSON form is the
// machine.json shape of the cases (testdata/cases/*/machine.json); keys it
// does not know (such as "note") are ignored when it is read.
type Machine struct {
	// OnlineCPUs are the online CPUs in kubelet's list syntax ("0-7");
	// empty when unknown.
	OnlineCPUs string `json:"onlineCPUs,omitempty"`
	// ReservedSystemCPUs are the CPUs kubelet keeps for the system
	// (KubeletConfiguration reservedSystemCPUs), in list syntax; empty when
	// unknown or none.
	ReservedSystemCPUs string `json:"reservedSystemCPUs,omitempty"`
	// CPUs is the topology of each online CPU, sorted by ID; empty when
	// unknown.
	CPUs []CPU `json:"cpus,omitempty"`
	// NUMA maps a NUMA node ID to its memory; empty when unknown.
	NUMA map[int]NUMANode `json:"numa,omitempty"`
	// SystemReservedPerNode is the memory kubelet reserves for the system
	// on every NUMA node, in bytes (what KubeletConfiguration reservedMemory
	// says per node); 0 when unknown.
	SystemReservedPerNode uint64 `json:"systemReservedPerNode,omitempty"`
	// Source says where the description came from ("/sys", a file name),
	// for messages.
	Source string `json:"-"`
}

// CPU is where one logical CPU sits.
type CPU struct {
	// ID is the logical CPU number.
	ID int `json:"cpu"`
	// Socket is the physical package.
	Socket int `json:"socket"`
	// Core is the core ID within the socket.
	Core int `json:"core"`
	// Node is the NUMA node, -1 when unknown.
	Node int `json:"node"`
}

// NUMANode is the memory of one NUMA node, as the kubelet memory manager
// sees it (cadvisor's per-node MemTotal and huge pages).
type NUMANode struct {
	// MemoryTotal is the node's MemTotal in bytes.
	MemoryTotal uint64 `json:"memoryTotal"`
	// HugePages maps a huge page resource name ("hugepages-1Gi") to the
	// bytes of huge pages configured on the node; nil when unknown.
	HugePages map[string]uint64 `json:"hugepages,omitempty"`
	// CPUs are the node's CPUs in list syntax, when known.
	CPUs string `json:"cpus,omitempty"`
}

// KnowsCPUs reports whether the online CPUs are known.
func (m *Machine) KnowsCPUs() bool { return m != nil && m.OnlineCPUs != "" }

// KnowsMemory reports whether the memory of the NUMA nodes is known.
func (m *Machine) KnowsMemory() bool { return m != nil && len(m.NUMA) > 0 }

// KnowsTopology reports whether the socket and core of the CPUs are known.
func (m *Machine) KnowsTopology() bool { return m != nil && len(m.CPUs) > 0 }

// Online returns the online CPUs, sorted (nil when unknown).
func (m *Machine) Online() ([]int, error) {
	if !m.KnowsCPUs() {
		return nil, nil
	}
	s, err := cpuset.Parse(m.OnlineCPUs)
	if err != nil {
		return nil, fmt.Errorf("%w: onlineCPUs %q: %w", ErrMachine, m.OnlineCPUs, err)
	}
	return s.List(), nil
}

// Reserved returns the reserved system CPUs, sorted (nil when unknown or
// none).
func (m *Machine) Reserved() ([]int, error) {
	if m == nil || m.ReservedSystemCPUs == "" {
		return nil, nil
	}
	s, err := cpuset.Parse(m.ReservedSystemCPUs)
	if err != nil {
		return nil, fmt.Errorf("%w: reservedSystemCPUs %q: %w", ErrMachine, m.ReservedSystemCPUs, err)
	}
	return s.List(), nil
}

// Nodes returns the IDs of the NUMA nodes whose memory is known, sorted.
func (m *Machine) Nodes() []int {
	if m == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(m.NUMA))
}

// CPU returns the topology of cpu, if known.
func (m *Machine) CPU(id int) (CPU, bool) {
	if m == nil {
		return CPU{}, false
	}
	i, ok := slices.BinarySearchFunc(m.CPUs, id, func(c CPU, id int) int { return c.ID - id })
	if !ok {
		return CPU{}, false
	}
	return m.CPUs[i], true
}

// validate checks what a description says about itself and normalises it:
// CPU lists parse, CPUs are sorted and unique, the topology (when given)
// covers the online CPUs it names.
func (m *Machine) validate() error {
	online, err := m.Online()
	if err != nil {
		return err
	}
	if _, err := m.Reserved(); err != nil {
		return err
	}
	slices.SortFunc(m.CPUs, func(a, b CPU) int { return a.ID - b.ID })
	for i, c := range m.CPUs {
		if c.ID < 0 || c.ID > cpuset.MaxCPU {
			return fmt.Errorf("%w: CPU id %d out of range", ErrMachine, c.ID)
		}
		if i > 0 && m.CPUs[i-1].ID == c.ID {
			return fmt.Errorf("%w: CPU %d listed twice in the topology", ErrMachine, c.ID)
		}
	}
	if len(m.CPUs) > 0 && len(online) == 0 {
		ids := make([]int, len(m.CPUs))
		for i, c := range m.CPUs {
			ids[i] = c.ID
		}
		m.OnlineCPUs = cpuset.New(ids...).String()
	}
	for id, n := range m.NUMA {
		if id < 0 {
			return fmt.Errorf("%w: NUMA node id %d", ErrMachine, id)
		}
		if n.CPUs != "" {
			if _, err := cpuset.Parse(n.CPUs); err != nil {
				return fmt.Errorf("%w: cpus of NUMA node %d: %w", ErrMachine, id, err)
			}
		}
	}
	return nil
}

// FormatCPUs formats CPU ids in kubelet's list syntax ("0-3,7").
func FormatCPUs(cpus []int) string { return cpuset.New(cpus...).String() }

// ParseCPUs parses kubelet's list syntax ("0-3,7") into sorted CPU ids.
func ParseCPUs(s string) ([]int, error) {
	set, err := cpuset.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: CPU list %q: %w", ErrMachine, s, err)
	}
	return set.List(), nil
}

// FromCPUList returns a Machine that knows only its online CPUs, from a list
// in kubelet's syntax (the --cpus flag).
func FromCPUList(list string) (*Machine, error) {
	set, err := cpuset.Parse(list)
	if err != nil {
		return nil, fmt.Errorf("%w: CPU list %q: %w", ErrMachine, list, err)
	}
	if set.IsEmpty() {
		return nil, fmt.Errorf("%w: empty CPU list", ErrMachine)
	}
	return &Machine{OnlineCPUs: set.String(), Source: "--cpus " + list}, nil
}

// Merge returns m with what it does not know filled in from o: each part
// (online CPUs, reserved CPUs, topology, NUMA memory, system reserved
// memory) comes from m when m knows it, else from o. Either may be nil.
func Merge(m, o *Machine) *Machine {
	if m == nil {
		return o
	}
	if o == nil {
		return m
	}
	out := *m
	if out.OnlineCPUs == "" {
		out.OnlineCPUs = o.OnlineCPUs
	}
	if out.ReservedSystemCPUs == "" {
		out.ReservedSystemCPUs = o.ReservedSystemCPUs
	}
	if len(out.CPUs) == 0 {
		out.CPUs = o.CPUs
	}
	if len(out.NUMA) == 0 {
		out.NUMA = o.NUMA
	}
	if out.SystemReservedPerNode == 0 {
		out.SystemReservedPerNode = o.SystemReservedPerNode
	}
	if o.Source != "" && o.Source != out.Source {
		if out.Source == "" {
			out.Source = o.Source
		} else {
			out.Source += " + " + o.Source
		}
	}
	return &out
}
