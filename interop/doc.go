// Package interop holds the side-by-side tests and benchmarks of ckpt against
// kubelet v1.37.2's own checkpoint code. It has no API: everything lives in
// _test.go files, so that `go vet ./...` and `go test ./...` are the whole
// interface.
package interop
