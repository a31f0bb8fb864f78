package machine

import (
	"strconv"
	"strings"
)

// FormatBytes renders a byte count for people in the largest binary unit
// it reaches: "64 GiB" or "40 MiB" when exact, else with up to two
// decimals ("63.96 GiB"); "512 B" below 1 KiB.
func FormatBytes(b uint64) string {
	units := []struct {
		name string
		n    uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if b < u.n {
			continue
		}
		if b%u.n == 0 {
			return strconv.FormatUint(b/u.n, 10) + " " + u.name
		}
		s := strconv.FormatFloat(float64(b)/float64(u.n), 'f', 2, 64)
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".") + " " + u.name
	}
	return strconv.FormatUint(b, 10) + " B"
}

// FormatDelta renders the signed difference to - from: "+40 MiB",
// "-40 MiB", "0".
func FormatDelta(from, to uint64) string {
	switch {
	case to > from:
		return "+" + FormatBytes(to-from)
	case to < from:
		return "-" + FormatBytes(from-to)
	}
	return "0"
}
