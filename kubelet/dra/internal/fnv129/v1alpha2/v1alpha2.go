// Package v1alpha2 mirrors k8s.io/api/resource/v1alpha2.ResourceHandle as it
// was before Kubernetes 1.30 added StructuredData: kubelet 1.29's DRA
// checkpoint hashes "[]v1alpha2.ResourceHandle" with these two fields only.
package v1alpha2

// ResourceHandle holds opaque resource data for one kubelet plugin (<=1.29).
type ResourceHandle struct {
	DriverName string `json:"driverName,omitempty"`
	Data       string `json:"data,omitempty"`
}
