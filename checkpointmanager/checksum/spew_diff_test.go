package checksum_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
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
		{"long byte slice uses the decimal tables", longBytes(3000)},
		{"byte slice at the table threshold", longBytes(33)},
		{"byte array", [40]byte(longBytes(40))},
		{"long strings use the pair tables", []string{strings.Repeat("ab", 50) + "c", strings.Repeat("\xff\x00", 9)}},
		{"big string-keyed map is sorted by prefix, then whole key", bigStringMap()},
		{"big int-keyed map", bigIntMap()},
		{"big map of UUID keys is bucketed by first byte, then insertion-sorted", uuidMap(300)},
		{"map just above the bucketing threshold", uuidMap(49)},
		{"map of maps (kubelet cpu manager entries)", map[string]map[string]string{"pod-b": {"ctr": "1-3", "app": "4"}, "pod-a": {}, "pod-c": nil}},
		{"map with int32 and uint keys", []any{map[int32]string{-4: "a", 2: "b"}, map[uint]bool{7: true, 3: false}, map[uint32][]int{1: nil}}},
		{"map with named string keys and pointer values", map[named]*inner{"b": {A: 1}, "a": nil}},
		{"map with single-pointer struct values", map[string]ptrStruct{"x": {P: ptr(1)}, "y": {}}},
		{"map with 8-byte scalar values", map[int]float64{3: 1.5, 1: -2}},
		{"map with odd value shapes falls back", map[string]inner{"a": {A: 1}}},
		{"struct of one map at top level (held in the interface word)", mapStruct{M: map[string]int{"a": 1}}},
		{"struct of one pointer at top level", ptrStruct{P: ptr(5)}},
		{"array of one pointer at top level", [1]*int{ptr(6)}},
		{"map at top level", map[string]int{"b": 2, "a": 1}},
		{"nil map at top level", map[string]int(nil)},
		{"pointer to struct with a nil pointer in a slice before other fields", &quirk{Ptrs: []*int{ptr(1), nil}, After: 9, Then: "x"}},
		{"nil pointer as map value leaves the next type suppressed", []any{quirkMap{M: map[string]*int{"a": nil}, After: 2}}},
		{"shared pointer at different depths is reported as a cycle", sharedDepth()},
		{"recursive list", &node{Val: 1, Next: &node{Val: 2}}},
		{"uintptr non-zero", uintptr(0xbeef)},
		{"small ints and negative", []int64{0, 9, 10, -1, math.MinInt64, math.MaxInt64}},
		{"unsigned widths", []any{uint8(255), uint16(65535), uint32(1 << 31), uint(7)}},
		{"float32 and float64 in a struct", struct {
			A float32
			B float64
		}{0.1, 1e-7}},
		{"empty struct and zero-size fields", struct {
			E struct{}
			Z [0]int
			S string
		}{S: "s"}},
	}
}

type ptrStruct struct{ P *int }

type mapStruct struct{ M map[string]int }

type quirkMap struct {
	M     map[string]*int
	After int
}

type twoPtrs struct {
	A *inner
	B struct{ C *inner }
}

func sharedDepth() twoPtrs {
	x := &inner{A: 1}
	v := twoPtrs{A: x}
	v.B.C = x
	return v
}

func longBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i/7)
	}
	return b
}

func bigStringMap() map[string][]int {
	m := map[string][]int{}
	for i := range 300 {
		// Keys share long prefixes so that the prefix sort has ties.
		m[fmt.Sprintf("%s-%03d", strings.Repeat("k", i%9), (i*37)%300)] = []int{i}
	}
	m[""] = nil
	m["k"] = []int{}
	return m
}

func uuidMap(n int) map[string]map[string]string {
	m := map[string]map[string]string{}
	for i := range n {
		uid := fmt.Sprintf("%08x-%04x-4000-8000-%012x", uint32(i*2654435761), i%7, i)
		m[uid] = map[string]string{"app": fmt.Sprint(i), "sidecar": ""}
	}
	m[""] = nil
	m["\xff"] = map[string]string{}
	return m
}

func bigIntMap() map[int]struct{} {
	m := map[int]struct{}{}
	for i := range 200 {
		m[(i*7919)%1000-500] = struct{}{}
	}
	return m
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

// fuzzFast is fuzzShape without interfaces: a type New hashes on its fast
// path (fuzzShape, with its interface field, takes the printer).
type fuzzFast struct {
	S   string
	I   int64
	I8  int8
	U   uint16
	F   float64
	F32 float32
	B   bool
	P   *int32
	SS  []string
	BB  []byte
	MI  map[int]string
	MS  map[string][]int
	MU  map[uint64]*structKey
	MP  map[string]*structKey
	MM  map[string]map[string]string
	Arr [2]string
	N   *fuzzFast
	NS  []*fuzzFast
	Set Set[string]
	u   int
}

func FuzzTextMatchesGoSpew(f *testing.F) {
	f.Add([]byte(`{"S":"x","I":-1,"MI":{"3":"a","1":"b"},"Any":{"k":[1,"2",null]}}`))
	f.Add([]byte(`{"SS":[],"BB":"AQID","MS":{"b":null,"a":[]},"N":{"P":5}}`))
	f.Add([]byte(`{"MF":{"1.5":true,"-2":false},"MP":{"a":null,"b":{"X":1}},"Set":{"z":{},"a":{}}}`))
	f.Add([]byte(`[1, {"a": {}}, "s", 2.5e300]`))
	f.Add([]byte(`{"NS":[null,{"S":"x","MU":{"3":null,"1":{"X":2}}}],"MM":{"b":{"y":"1","x":"2"},"a":null},"F32":0.1}`))
	f.Add([]byte(`{"BB":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==","S":"a long string that goes through the pair tables"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s fuzzShape
		if json.Unmarshal(data, &s) == nil {
			want, wantSum := reference(s)
			if got := checksum.Text(s); got != want {
				t.Fatalf("struct:\n got %s\nwant %s", got, want)
			}
			if got := checksum.New(s); got != wantSum {
				t.Fatalf("struct: New = %d, want %d", got, wantSum)
			}
			if got := checksum.New(&s); got != checksum.Sum([]byte(checksum.Text(&s))) {
				t.Fatalf("pointer to struct: New = %d, want %d", got, checksum.Sum([]byte(checksum.Text(&s))))
			}
		}
		var ff fuzzFast
		if json.Unmarshal(data, &ff) == nil {
			want, wantSum := reference(&ff)
			if got := checksum.Text(&ff); got != want {
				t.Fatalf("fast struct:\n got %s\nwant %s", got, want)
			}
			if got := checksum.New(&ff); got != wantSum {
				t.Fatalf("fast struct: New = %d, want %d", got, wantSum)
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

type CheckpointV2 struct {
	Name    string
	Entries map[string]map[string]string
	Sum     checksum.Checksum
}

func TestNewReplacedEqualsReplacedText(t *testing.T) {
	v2 := &CheckpointV2{Name: "static", Entries: map[string]map[string]string{"p": {"c": "1-3"}}}
	for _, tc := range []struct {
		reason   string
		value    any
		old, new string
	}{
		{"rename in the top-level pointer type (kubelet's cpu manager hack)", v2, "CheckpointV2", "Checkpoint"},
		{"rename in the top-level value type", *v2, "CheckpointV2", "Checkpoint"},
		{"nil top-level pointer", (*CheckpointV2)(nil), "CheckpointV2", "Checkpoint"},
		{"old only in the body", v2, "static", "none"},
		{"old nowhere", v2, "absent", "x"},
		{"empty old inserts new at the start", v2, "", "x"},
		{"type without a plan", struct{ A any }{1}, "struct", "S"},
		{"nil interface", nil, "interface", "I"},
		{"old straddles the top-level type and the body", v2, "V2){Name", "X"},
	} {
		want := checksum.Sum([]byte(strings.Replace(checksum.Text(tc.value), tc.old, tc.new, 1)))
		if got := checksum.NewReplaced(tc.value, tc.old, tc.new); got != want {
			t.Errorf("%s: NewReplaced = %d, want %d", tc.reason, got, want)
		}
	}
}
