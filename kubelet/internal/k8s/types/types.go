// Package types mirrors the name of k8s.io/apimachinery/pkg/types for the
// types kubelet checkpoints hash. Kubelet's checksum text contains the Go
// package name and type name of every value ("(types.UID)..."), so a type
// with kubelet's exact package and type name is the simplest way to
// reproduce that text by construction.
package types

// UID is a Kubernetes object UID (a pod or claim UID). It prints as
// "types.UID" in kubelet's checksum text.
type UID string
