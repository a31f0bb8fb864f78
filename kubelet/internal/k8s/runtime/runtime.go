// Package runtime mirrors the names of k8s.io/apimachinery/pkg/runtime that
// kubelet checkpoints hash: runtime.RawExtension appears in the checksum text
// of kubelet 1.30's DRA checkpoint (inside v1alpha2.StructuredResourceHandle).
package runtime

import (
	"bytes"
	"errors"
)

// Object stands for apimachinery's runtime.Object interface. Only its name
// matters here: a decoded RawExtension never holds an Object, and the
// checksum text prints the nil field as "(runtime.Object)<nil>".
type Object interface {
	// DeepCopyObject is never called; it only gives the interface a method
	// set, as apimachinery's has.
	DeepCopyObject() Object
}

// RawExtension holds a JSON value as raw bytes, decoded the way
// apimachinery's RawExtension decodes it: JSON null leaves it empty, any
// other value is kept byte for byte.
type RawExtension struct {
	// Raw is the JSON value as it appeared in the input.
	Raw []byte `json:"-"`
	// Object is always nil here.
	Object Object `json:"-"`
}

// UnmarshalJSON keeps the raw bytes of any value other than null.
func (re *RawExtension) UnmarshalJSON(in []byte) error {
	if re == nil {
		return errors.New("runtime.RawExtension: UnmarshalJSON on nil pointer")
	}
	if !bytes.Equal(in, []byte("null")) {
		re.Raw = append(re.Raw[0:0], in...)
	}
	return nil
}

// MarshalJSON writes the raw bytes back, or null when there are none.
func (re RawExtension) MarshalJSON() ([]byte, error) {
	if re.Raw == nil {
		return []byte("null"), nil
	}
	return re.Raw, nil
}
