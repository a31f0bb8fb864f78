package prune

import (
	"errors"
	"reflect"
	"testing"
)

func TestParsePods(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   []string
	}{
		{"a JSON list (the cases' active-pods.json)", `["b","a"]`, []string{"a", "b"}},
		{"kubectl get pods -o json", `{"items":[{"metadata":{"name":"x","uid":"u1"}},{"metadata":{"uid":"u2"}}]}`, []string{"u1", "u2"}},
		{"crictl pods -o json", `{"items":[{"id":"sandbox","metadata":{"name":"x","uid":"u1","namespace":"n"}}]}`, []string{"u1"}},
		{"objects with uid", `[{"uid":"u1"},{"podUID":"u2"}]`, []string{"u1", "u2"}},
		{"plain text with comments and commas", "# pods\nu1 u2,u3\n\nu4 # last\n", []string{"u1", "u2", "u3", "u4"}},
	} {
		p, err := ParsePods([]byte(tc.data))
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if got := p.Sorted(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.reason, got, tc.want)
		}
	}
	for _, tc := range []struct {
		reason string
		data   string
	}{
		{"empty file: an empty list would make every entry stale", ""},
		{"only comments", "# nothing\n"},
		{"an empty JSON list", "[]"},
		{"broken JSON", `["a"`},
		{"trailing JSON", `["a"] ["b"]`},
		{"an object without UIDs", `{"pods":1}`},
		{"a number", `[1]`},
	} {
		if _, err := ParsePods([]byte(tc.data)); !errors.Is(err, ErrPodList) {
			t.Errorf("%s: err %v, want ErrPodList", tc.reason, err)
		}
	}
	if got := ParseUIDList(" a, b\nc ").Sorted(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("ParseUIDList: %v", got)
	}
}
