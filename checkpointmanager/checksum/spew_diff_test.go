package checksum_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"testing"
	"time"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// reference is kubelet's hashing, built from go-spew itself: the oracle the
// printer is compared with.
func reference(v any) (string, checksum.Checksum) {
	cfg := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	text := cfg.Sprintf("%#v", v)
	h := fnv.New32a()
	h.Write([]byte(text))
	return text, checksum.Checksum(h.Sum32())
}

type inner struct {
	A int
	b string
	C *int32
}

type outer struct {
	Name    string
	Inner   inner
	PInner  *inner
	Items   []inner
	PItems  []*inner
	ByName  map[string]inner
	ByNum   map[int64][]string
	Bytes   []byte
	Arr     [3]uint8
	Any     any
	Err     error
	private map[int]struct{}
	F32     float32
	F64     float64
	C       complex128
	Flag    bool
	Ptrs    **int
}

type structKey struct {
	X, Y int
}

type stringerKey struct{ N int }

func (s stringerKey) String() string { return fmt.Sprintf("K%03d", 100-s.N) }

type ptrStringerKey struct{ N int }

func (s *ptrStringerKey) String() string { return fmt.Sprintf("P%d", -s.N) }

type errKey struct{ N int }

func (e errKey) Error() string { return fmt.Sprintf("E%d", 10-e.N) }

// Set and Pair are generic types: their names print with type arguments.
type Set[T comparable] map[T]struct{}

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

type named string
type namedInt int
type namedSlice []named

type node struct {
	Val  int
	Next *node
}

type quirk struct {
	Ptrs  []*int
	After int
	M     map[string]*int
	Then  string
}

type ifaceHolder struct {
	Vals []any
	M    map[string]any
	I    fmt.Stringer
}

type embeds struct {
	inner
	Outer *outer
}

func ptr[T any](v T) *T { return &v }

func shapes() []struct {
	reason string
	value  any
} {
	one := 1
	pone := &one
	cyc := &node{Val: 1}
	cyc.Next = &node{Val: 2, Next: cyc}
	shared := &inner{A: 7}
	return []struct {
		reason string
		value  any
	}{
		{"nil interface at top level", nil},
		{"plain int", 42},
		{"negative int8", int8(-5)},
		{"uint64 max", uint64(math.MaxUint64)},
		{"string is written raw, without quotes or escapes", "a \"q\"\n\tb"},
		{"empty string", ""},
		{"bool", true},
		{"float32 shortest form", float32(0.1)},
		{"float64 exponent form", 1e21},
		{"float NaN and Inf", []float64{math.NaN(), math.Inf(1), math.Inf(-1)}},
		{"complex", complex(1.5, -2)},
		{"nil map vs empty map", []map[string]int{nil, {}}},
		{"nil slice vs empty slice", [][]int{nil, {}}},
		{"byte slice prints decimal bytes", []byte("\n\x03a")},
		{"nil byte slice", []byte(nil)},
		{"array", [4]int{3, 1, 2, 0}},
		{"pointer at top level", &inner{A: 1, b: "x", C: ptr(int32(80))}},
		{"nil pointer at top level", (*inner)(nil)},
		{"pointer to pointer", pone},
		{"double pointer", &pone},
		{"double pointer to nil", ptr((*int)(nil))},
		{"struct with everything", outer{
			Name: "n", Inner: inner{A: 1, b: "b"}, PInner: &inner{A: 2},
			Items:  []inner{{A: 3}, {A: 4, C: ptr(int32(-1))}},
			PItems: []*inner{{A: 5}, nil, {A: 6}},
			ByName: map[string]inner{"z": {A: 1}, "a": {A: 2}, "m": {}},
			ByNum:  map[int64][]string{10: {"x"}, -3: nil, 2: {}},
			Bytes:  []byte{1, 2, 3}, Arr: [3]uint8{9, 8, 7},
			Any: map[string]any{"k": 1, "j": []any{"s", 2.5, nil}},
			Err: fmt.Errorf("boom"), private: map[int]struct{}{5: {}, 1: {}, 3: {}},
			F32: 1.25, F64: -0.0001, C: complex(0, 1), Flag: true, Ptrs: &pone,
		}},
		{"zero struct", outer{}},
		{"map with int keys sorted numerically", map[int]string{10: "a", 9: "b", -1: "c", 100: "d"}},
		{"map with string keys sorted bytewise", map[string]int{"b": 1, "B": 2, "a": 3, "ä": 4, "": 5}},
		{"map with bool keys", map[bool]int{true: 1, false: 0}},
		{"map with float keys", map[float64]string{2.5: "a", -1: "b", 0: "c"}},
		{"map with struct keys sorted by their spew text", map[structKey]string{{2, 1}: "a", {1, 2}: "b", {10, 0}: "c"}},
		{"map with pointer values", map[string]*int{"a": ptr(1), "b": nil}},
		{"map with array keys", map[[2]int]bool{{2, 1}: true, {1, 2}: false, {1, 1}: true}},
		{"map with Stringer keys sorted by String()", map[stringerKey]int{{1}: 1, {2}: 2, {30}: 3}},
		{"map with pointer-receiver Stringer keys", map[ptrStringerKey]int{{1}: 1, {2}: 2, {-3}: 3}},
		{"map with error keys sorted by Error()", map[errKey]int{{1}: 1, {2}: 2, {9}: 3}},
		{"map with interface keys", map[any]int{"b": 1, 2: 2, "a": 3, 1.5: 4}},
		{"map with pointer keys, single", map[*int]int{ptr(4): 1}},
		{"generic set", Set[string]{"b": {}, "a": {}}},
		{"generic pair", Pair[string, []int]{Key: "k", Val: []int{1}}},
		{"pointer to generic", &Pair[namedInt, *Pair[int, string]]{Key: 3, Val: &Pair[int, string]{1, "x"}}},
		{"named types", []any{named("x"), namedInt(3), namedSlice{"a", "b"}}},
		{"cycle through pointers", cyc},
		{"shared pointer is not a cycle", []*inner{shared, shared}},
		{"nil pointer in slice leaves the next field without type", quirk{Ptrs: []*int{nil}, After: 3, M: map[string]*int{"a": nil}, Then: "t"}},
		{"non-nil pointer in slice", quirk{Ptrs: []*int{ptr(1)}, After: 3}},
		{"interfaces re-enable types inside containers", ifaceHolder{Vals: []any{1, "a", nil, []int{1}, ptr(2)}, M: map[string]any{"x": nil, "y": struct{}{}}}},
		{"nil Stringer interface field", ifaceHolder{}},
		{"embedded struct", embeds{inner: inner{A: 1}, Outer: &outer{Name: "o"}}},
		{"anonymous struct", struct {
			A int
			B []struct{ C string }
		}{A: 1, B: []struct{ C string }{{"c"}}}},
		{"map of empty structs (sets.Set shape)", map[int]struct{}{3: {}, 1: {}}},
		{"time.Duration is an int64", time.Duration(5)},
		{"slice of maps of slices", []map[string][]int{{"a": {1, 2}}, nil}},
		{"pointer to interface", ptr[any](5)},
		{"pointer to nil interface", ptr[any](nil)},
		{"uintptr zero", uintptr(0)},
		{"nil func", (func())(nil)},
		{"nil chan", (chan int)(nil)},
	}
}

func TestTextMatchesGoSpew(t *testing.T) {
	for _, tc := range shapes() {
		want, wantSum := reference(tc.value)
		got := checksum.Text(tc.value)
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.reason, got, want)
			continue
		}
		if sum := checksum.New(tc.value); sum != wantSum {
			t.Errorf("%s: New = %d, want %d", tc.reason, sum, wantSum)
		}
		if sum := checksum.Sum([]byte(got)); sum != wantSum {
			t.Errorf("%s: Sum(Text) = %d, want %d", tc.reason, sum, wantSum)
		}
	}
}

func TestOfStringEqualsNew(t *testing.T) {
	for _, s := range []string{"", "{}", `{"policyName":"none"}`, "\x00\xff"} {
		if got, want := checksum.OfString(s), checksum.New(s); got != want {
			t.Errorf("OfString(%q) = %d, New = %d", s, got, want)
		}
	}
}

// fuzzShape is a rich target for JSON-driven fuzzing: the fuzzer's bytes
// become values of many kinds, and both printers must agree on them.
type fuzzShape struct {
	S   string
	I   int64
	U   uint16
	F   float64
	B   bool
	P   *int32
	SS  []string
	BB  []byte
	MI  map[int]string
	MS  map[string][]int
	MF  map[float32]bool
	MP  map[string]*structKey
	Any any
	Arr [2]string
	N   *fuzzShape
	Set Set[string]
	u   int
}

func FuzzTextMatchesGoSpew(f *testing.F) {
	f.Add([]byte(`{"S":"x","I":-1,"MI":{"3":"a","1":"b"},"Any":{"k":[1,"2",null]}}`))
	f.Add([]byte(`{"SS":[],"BB":"AQID","MS":{"b":null,"a":[]},"N":{"P":5}}`))
	f.Add([]byte(`{"MF":{"1.5":true,"-2":false},"MP":{"a":null,"b":{"X":1}},"Set":{"z":{},"a":{}}}`))
	f.Add([]byte(`[1, {"a": {}}, "s", 2.5e300]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s fuzzShape
		if json.Unmarshal(data, &s) == nil {
			want, _ := reference(s)
			if got := checksum.Text(s); got != want {
				t.Fatalf("struct:\n got %s\nwant %s", got, want)
			}
		}
		var a any
		if json.Unmarshal(data, &a) == nil {
			want, wantSum := reference(a)
			if got := checksum.Text(a); got != want {
				t.Fatalf("any:\n got %s\nwant %s", got, want)
			}
			if got := checksum.New(a); got != wantSum {
				t.Fatalf("any: New = %d, want %d", got, wantSum)
			}
		}
	})
}
