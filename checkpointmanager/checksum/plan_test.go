package checksum

import (
	"reflect"
	"testing"
)

type planInner struct {
	A int
	b string
}

type planOuter struct {
	Entries map[string]map[string]string
	Blocks  map[string][]planInner
	Ptrs    map[int]*planInner
	Bytes   []byte
	Self    *planOuter
}

type planWithAny struct {
	X any
}

// TestPlanCoverage pins which types take the fast path: kubelet's shapes
// must, so that the differential tests exercise it; types that need the
// printer must not.
func TestPlanCoverage(t *testing.T) {
	for _, tc := range []struct {
		reason string
		value  any
		fast   bool
	}{
		{"kubelet-like nested maps, slices, pointers, recursion", &planOuter{}, true},
		{"string", "s", true},
		{"set of ints", map[int]struct{}{}, true},
		{"interface field needs the printer", planWithAny{}, false},
		{"pointer to pointer needs the printer", new(*int), false},
		{"map with struct keys needs the printer", map[planInner]int{}, false},
		{"map with float keys needs the printer", map[float64]int{}, false},
		{"map with struct values of unusual layout needs the printer", map[string]planInner{}, false},
		{"complex needs the printer", complex(1, 2), false},
		{"channel needs the printer", make(chan int), false},
	} {
		if got := planFor(reflect.TypeOf(tc.value)) != nil; got != tc.fast {
			t.Errorf("%s: has plan = %v, want %v", tc.reason, got, tc.fast)
		}
	}
}

// TestFastEqualsPrinter compares the fast path with the printer directly.
func TestFastEqualsPrinter(t *testing.T) {
	self := &planOuter{Bytes: make([]byte, 100)}
	self.Self = self
	for _, tc := range []struct {
		reason string
		value  any
	}{
		{"zero", planOuter{}},
		{"filled", &planOuter{
			Entries: map[string]map[string]string{"b": {"y": "1", "x": "2"}, "a": nil, "c": {}},
			Blocks:  map[string][]planInner{"k": {{A: 1, b: "q"}}, "j": nil},
			Ptrs:    map[int]*planInner{2: nil, 1: {A: 3}},
			Bytes:   []byte("0123456789012345678901234567890123456789"),
		}},
		{"cycle", self},
	} {
		var s fnvSink
		s.reset()
		p := printer{out: &s, sortKeys: true}
		p.top(tc.value)
		got, ok := fastNew(tc.value, nil)
		if !ok {
			t.Errorf("%s: no fast path", tc.reason)
			continue
		}
		if got != Checksum(s.sum) {
			t.Errorf("%s: fast %d, printer %d (%s)", tc.reason, got, s.sum, Text(tc.value))
		}
	}
}
