package machine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// maxFile bounds what is read of one description file.
const maxFile = 4 << 20

// ParseJSON reads the machine.json shape (see Machine). Unknown keys are
// ignored, so notes may be kept in the file.
func ParseJSON(data []byte) (*Machine, error) {
	var m Machine
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: machine JSON: %w", ErrMachine, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: machine JSON: trailing data after the object", ErrMachine)
	}
	if m.OnlineCPUs == "" && m.ReservedSystemCPUs == "" && len(m.CPUs) == 0 && len(m.NUMA) == 0 && m.SystemReservedPerNode == 0 {
		// Unknown keys are ignored, so any other JSON document (a
		// checkpoint given by mistake) would read as a machine of which
		// nothing is known, and silently weaken every finding.
		return nil, fmt.Errorf("%w: machine JSON: none of onlineCPUs, reservedSystemCPUs, cpus, numa, systemReservedPerNode", ErrMachine)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ParseLscpu reads the output of `lscpu -p=CPU,CORE,SOCKET,NODE` (lines of
// comma-separated numbers; lines starting with # are comments; a missing
// NODE column or an empty NODE means unknown). Only the topology and the
// online CPUs are known afterwards.
func ParseLscpu(data []byte) (*Machine, error) {
	var m Machine
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, ",")
		if len(f) < 3 {
			return nil, fmt.Errorf("%w: lscpu line %d: want CPU,CORE,SOCKET[,NODE], got %q", ErrMachine, line, text)
		}
		var n [4]int
		n[3] = -1
		for i := 0; i < len(f) && i < 4; i++ {
			if i == 3 && f[i] == "" {
				continue
			}
			v, err := strconv.Atoi(f[i])
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: lscpu line %d: field %d is %q, not a number", ErrMachine, line, i+1, f[i])
			}
			n[i] = v
		}
		m.CPUs = append(m.CPUs, CPU{ID: n[0], Core: n[1], Socket: n[2], Node: n[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: lscpu output: %w", ErrMachine, err)
	}
	if len(m.CPUs) == 0 {
		return nil, fmt.Errorf("%w: no CPU lines in lscpu output", ErrMachine)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadFile reads a machine description from a file: machine.json (a JSON
// object) or `lscpu -p` output (anything else).
func ReadFile(path string) (*Machine, error) {
	data, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	var m *Machine
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		m, err = ParseJSON(data)
	} else {
		m, err = ParseLscpu(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Source = path
	return m, nil
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrMachine, path, maxFile)
	}
	return data, nil
}

// ReadSys reads the machine from a sysfs tree rooted at root ("/sys" on a
// node): the online CPUs (devices/system/cpu/online), each CPU's socket and
// core (cpuN/topology/physical_package_id, core_id), and per NUMA node
// (devices/system/node/nodeN) its CPUs, MemTotal (meminfo) and huge pages
// (hugepages/hugepages-<size>kB/nr_hugepages), as cadvisor reads them for
// kubelet. Parts that are missing are left unknown; it fails only when not
// even the online CPUs can be read.
func ReadSys(root string) (*Machine, error) {
	m := &Machine{Source: root}
	cpuDir := filepath.Join(root, "devices", "system", "cpu")
	online, err := os.ReadFile(filepath.Join(cpuDir, "online"))
	if err != nil {
		return nil, fmt.Errorf("read online CPUs: %w", err)
	}
	set, err := cpuset.Parse(strings.TrimSpace(string(online)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s/devices/system/cpu/online: %w", ErrMachine, root, err)
	}
	m.OnlineCPUs = set.String()

	nodeOf := map[int]int{}
	nodeDir := filepath.Join(root, "devices", "system", "node")
	entries, _ := os.ReadDir(nodeDir)
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), "node")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(id)
		if err != nil || n < 0 {
			continue
		}
		dir := filepath.Join(nodeDir, e.Name())
		var node NUMANode
		if b, err := os.ReadFile(filepath.Join(dir, "cpulist")); err == nil {
			if cs, err := cpuset.Parse(strings.TrimSpace(string(b))); err == nil {
				node.CPUs = cs.String()
				for _, c := range cs.List() {
					nodeOf[c] = n
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "meminfo")); err == nil {
			node.MemoryTotal = memTotal(b)
		}
		node.HugePages = hugePages(filepath.Join(dir, "hugepages"))
		if node.MemoryTotal > 0 {
			if m.NUMA == nil {
				m.NUMA = map[int]NUMANode{}
			}
			m.NUMA[n] = node
		}
	}

	for _, c := range set.List() {
		top := filepath.Join(cpuDir, "cpu"+strconv.Itoa(c), "topology")
		socket, err1 := readInt(filepath.Join(top, "physical_package_id"))
		core, err2 := readInt(filepath.Join(top, "core_id"))
		if err1 != nil || err2 != nil {
			m.CPUs = nil // partial topology is no topology
			break
		}
		node, ok := nodeOf[c]
		if !ok {
			node = -1
		}
		m.CPUs = append(m.CPUs, CPU{ID: c, Socket: socket, Core: core, Node: node})
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// memTotal reads "Node 0 MemTotal:  65799500 kB" from a node's meminfo.
func memTotal(meminfo []byte) uint64 {
	for line := range strings.SplitSeq(string(meminfo), "\n") {
		f := strings.Fields(line)
		for i, w := range f {
			if w == "MemTotal:" && i+1 < len(f) {
				v, err := strconv.ParseUint(f[i+1], 10, 64)
				if err != nil {
					return 0
				}
				if i+2 < len(f) && strings.EqualFold(f[i+2], "kB") {
					v *= 1024
				}
				return v
			}
		}
	}
	return 0
}

// hugePages reads hugepages-<size>kB/nr_hugepages under dir into resource
// name -> bytes, the names kubelet gives them ("hugepages-2Mi").
func hugePages(dir string) map[string]uint64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[string]uint64{}
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		kb, ok = strings.CutSuffix(kb, "kB")
		if !ok {
			continue
		}
		size, err := strconv.ParseUint(kb, 10, 64)
		if err != nil || size == 0 {
			continue
		}
		n, err := readInt(filepath.Join(dir, e.Name(), "nr_hugepages"))
		if err != nil || n < 0 {
			continue
		}
		out[HugePageResource(size*1024)] = uint64(n) * size * 1024
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// HugePageResource returns kubelet's resource name for huge pages of
// pageSize bytes: "hugepages-" and the size in binary units ("hugepages-2Mi",
// "hugepages-1Gi").
func HugePageResource(pageSize uint64) string {
	return "hugepages-" + binarySize(pageSize)
}

// binarySize renders bytes as resource.Quantity does in BinarySI for exact
// multiples: "1Gi", "2Mi", "64Ki", else the plain number.
func binarySize(b uint64) string {
	for _, u := range []struct {
		suffix string
		n      uint64
	}{{"Ei", 1 << 60}, {"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b >= u.n && b%u.n == 0 {
			return strconv.FormatUint(b/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatUint(b, 10)
}
