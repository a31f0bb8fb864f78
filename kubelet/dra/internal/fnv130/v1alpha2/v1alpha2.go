// Package v1alpha2 mirrors the k8s.io/api/resource/v1alpha2 types of
// Kubernetes 1.30 that kubelet 1.30's DRA checkpoint hashes. The checksum
// text contains "[]v1alpha2.ResourceHandle" and every field of it, including
// StructuredData (added in 1.30, kubernetes#123552), so the layout must be
// exactly 1.30's.
package v1alpha2

import "github.com/ckptkit/ckpt/kubelet/internal/k8s/runtime"

// ResourceHandle holds opaque resource data for one kubelet plugin (1.30).
type ResourceHandle struct {
	DriverName     string                    `json:"driverName,omitempty"`
	Data           string                    `json:"data,omitempty"`
	StructuredData *StructuredResourceHandle `json:"structuredData,omitempty"`
}

// StructuredResourceHandle is the in-tree allocation result of structured
// parameters (1.30 alpha).
//
// No reference file with a non-nil StructuredData exists; the layout follows
// the 1.30 API type as documented, so a checksum over one is a best effort.
type StructuredResourceHandle struct {
	VendorClassParameters runtime.RawExtension     `json:"vendorClassParameters,omitempty"`
	VendorClaimParameters runtime.RawExtension     `json:"vendorClaimParameters,omitempty"`
	NodeName              string                   `json:"nodeName,omitempty"`
	Results               []DriverAllocationResult `json:"results"`
}

// DriverAllocationResult is the allocation result of one request.
type DriverAllocationResult struct {
	VendorRequestParameters runtime.RawExtension `json:"vendorRequestParameters,omitempty"`
	AllocationResultModel   `json:",inline"`
}

// AllocationResultModel holds the result of one resource model.
type AllocationResultModel struct {
	NamedResources *NamedResourcesAllocationResult `json:"namedResources,omitempty"`
}

// NamedResourcesAllocationResult names the selected resource instance.
type NamedResourcesAllocationResult struct {
	Name string `json:"name"`
}
