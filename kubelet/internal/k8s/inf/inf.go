// Package inf mirrors the name and the layout of gopkg.in/inf.v0's Dec, an
// arbitrary-precision decimal. Kubelet 1.27-1.31 hashed resource.Quantity
// values, whose internals hold a *inf.Dec for values the int64 fast path
// cannot represent; the checksum text prints it as
// "(*inf.Dec){unscaled:(big.Int){neg:(bool)false abs:(big.nat)[...]} scale:(inf.Scale)9}".
package inf

import "math/big"

// Scale is the number of digits after the decimal point.
type Scale int32

// Dec is the decimal unscaled × 10^-scale. Its two fields, their order and
// their types are inf.v0's, because the checksum text prints them.
type Dec struct {
	unscaled big.Int
	scale    Scale
}

// New returns the decimal unscaled × 10^-scale, copying unscaled with
// big.Int.Set as inf.v0 does, so that the internal representation (which
// the checksum text shows) is the one inf.v0 would hold.
func New(unscaled *big.Int, scale Scale) *Dec {
	d := &Dec{scale: scale}
	d.unscaled.Set(unscaled)
	return d
}

// Unscaled returns a copy of the unscaled value.
func (d *Dec) Unscaled() *big.Int { return new(big.Int).Set(&d.unscaled) }

// Scale returns the scale.
func (d *Dec) Scale() Scale { return d.scale }
