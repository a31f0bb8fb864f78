package v1

import "github.com/ckptkit/ckpt/kubelet/internal/k8s/resource"

// ResourceList maps a resource name to a quantity, as core/v1's
// ResourceList. Kubelet 1.27-1.31 hashed it in the pod status manager
// checkpoint, so the quantities are apimachinery-compatible
// resource.Quantity values whose internals the checksum text shows.
type ResourceList map[ResourceName]resource.Quantity

// PodResizeStatus is the state of a pod resize ("Proposed", "InProgress",
// "Deferred", "Infeasible"), as core/v1's PodResizeStatus.
type PodResizeStatus string
