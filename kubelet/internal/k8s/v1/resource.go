// Package v1 holds the few names of k8s.io/api/core/v1 that kubelet's
// checkpoint checksums print: the checksum text shows a resource name as
// `(v1.ResourceName)memory`, so the type must be declared in a package named
// v1. Other files may add more such names.
package v1

// ResourceName is the name of a node resource, as core/v1's ResourceName
// ("memory", "hugepages-1Gi", "cpu").
type ResourceName string

// Resource names the memory manager uses.
const (
	// ResourceMemory is ordinary memory.
	ResourceMemory ResourceName = "memory"
	// ResourceCPU is CPU.
	ResourceCPU ResourceName = "cpu"
	// ResourceHugePagesPrefix prefixes huge page resources ("hugepages-2Mi").
	ResourceHugePagesPrefix = "hugepages-"
)
