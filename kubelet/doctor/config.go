package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// ErrConfig is wrapped by every error about a kubelet configuration file
// that cannot be read.
var ErrConfig = errors.New("bad kubelet configuration")

// Config is the part of a KubeletConfiguration (kubelet.config.k8s.io)
// that decides how kubelet reads its checkpoints. Fields left out of the
// file get kubelet's defaults from ParseConfig.
type Config struct {
	// CPUManagerPolicy is "none" (kubelet's default) or "static".
	CPUManagerPolicy string `yaml:"cpuManagerPolicy" json:"cpuManagerPolicy"`
	// CPUManagerPolicyOptions are the static policy's options
	// ("full-pcpus-only", "strict-cpu-reservation", ...).
	CPUManagerPolicyOptions map[string]string `yaml:"cpuManagerPolicyOptions" json:"cpuManagerPolicyOptions,omitempty"`
	// MemoryManagerPolicy is "None" (kubelet's default) or "Static".
	MemoryManagerPolicy string `yaml:"memoryManagerPolicy" json:"memoryManagerPolicy"`
	// ReservedSystemCPUs is the list of CPUs reserved for the system.
	ReservedSystemCPUs string `yaml:"reservedSystemCPUs" json:"reservedSystemCPUs,omitempty"`
	// ReservedMemory is the memory reserved per NUMA node.
	ReservedMemory []ReservedMemory `yaml:"reservedMemory" json:"reservedMemory,omitempty"`
	// FeatureGates maps a gate to its setting.
	FeatureGates map[string]bool `yaml:"featureGates" json:"featureGates,omitempty"`
	// Kind and APIVersion identify the document.
	Kind       string `yaml:"kind" json:"kind,omitempty"`
	APIVersion string `yaml:"apiVersion" json:"apiVersion,omitempty"`
}

// ReservedMemory is one entry of KubeletConfiguration reservedMemory.
type ReservedMemory struct {
	NUMANode int               `yaml:"numaNode" json:"numaNode"`
	Limits   map[string]string `yaml:"limits" json:"limits"`
}

// ParseConfig reads a KubeletConfiguration YAML (or JSON) document and
// fills kubelet's defaults for the policies. It fails, wrapping ErrConfig,
// on YAML it cannot read, a document of another kind, a policy kubelet
// does not know, or a reservedSystemCPUs list that does not parse.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.Kind != "" && c.Kind != "KubeletConfiguration" {
		return nil, fmt.Errorf("%w: kind %q, want KubeletConfiguration", ErrConfig, c.Kind)
	}
	if c.CPUManagerPolicy == "" {
		c.CPUManagerPolicy = "none"
	}
	if c.MemoryManagerPolicy == "" {
		c.MemoryManagerPolicy = "None"
	}
	// Kubelet refuses to start with these wrong, so a finding computed
	// from them would be advice for a configuration that cannot run.
	if c.CPUManagerPolicy != "none" && c.CPUManagerPolicy != "static" {
		return nil, fmt.Errorf("%w: cpuManagerPolicy %q, want none or static", ErrConfig, c.CPUManagerPolicy)
	}
	if c.MemoryManagerPolicy != "None" && c.MemoryManagerPolicy != "Static" {
		return nil, fmt.Errorf("%w: memoryManagerPolicy %q, want None or Static", ErrConfig, c.MemoryManagerPolicy)
	}
	if _, err := cpuset.Parse(c.ReservedSystemCPUs); err != nil {
		return nil, fmt.Errorf("%w: reservedSystemCPUs %q: %w", ErrConfig, c.ReservedSystemCPUs, err)
	}
	for _, r := range c.ReservedMemory {
		for res, q := range r.Limits {
			if _, err := parseBytes(q); err != nil {
				return nil, fmt.Errorf("%w: reservedMemory of NUMA node %d, %s: %w", ErrConfig, r.NUMANode, res, err)
			}
		}
	}
	return &c, nil
}

// Gate reports the setting of a feature gate, and whether the
// configuration sets it.
func (c *Config) Gate(name string) (on, set bool) {
	if c == nil {
		return false, false
	}
	on, set = c.FeatureGates[name]
	return on, set
}

// StrictCPUReservation reports whether the static CPU policy keeps the
// reserved CPUs out of the default set.
func (c *Config) StrictCPUReservation() bool {
	return c != nil && strings.EqualFold(c.CPUManagerPolicyOptions["strict-cpu-reservation"], "true")
}

// reservedMemoryOn returns the memory (resource "memory") reserved on NUMA
// node n, and whether the configuration says.
func (c *Config) reservedMemoryOn(n int) (uint64, bool) {
	if c == nil {
		return 0, false
	}
	for _, r := range c.ReservedMemory {
		if r.NUMANode == n {
			if q, ok := r.Limits["memory"]; ok {
				b, err := parseBytes(q)
				return b, err == nil
			}
		}
	}
	return 0, false
}

// parseBytes reads a resource quantity of memory ("1Gi", "512M",
// "1073741824", "1.5Gi") as bytes.
func parseBytes(q string) (uint64, error) {
	q = strings.TrimSpace(q)
	suffixes := []struct {
		s string
		m int64
	}{
		{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
		{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
	}
	mult := int64(1)
	num := q
	for _, s := range suffixes {
		if n, ok := strings.CutSuffix(q, s.s); ok {
			num, mult = n, s.m
			break
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || r.Sign() < 0 || num == "" {
		return 0, fmt.Errorf("%q is not a memory quantity", q)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	// Quantities round up to whole bytes, as resource.Quantity.Value does.
	i := new(big.Int).Quo(r.Num(), r.Denom())
	if new(big.Rat).SetInt(i).Cmp(r) < 0 {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsUint64() || i.Uint64() > math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", q)
	}
	return i.Uint64(), nil
}
