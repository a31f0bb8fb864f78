package prune

import (
	"errors"
	"reflect"
	"testing"
)

// UIDs of the shapes kubelet keys its checkpoints by.
const (
	u1     = "aaaaaaaa-0000-4000-8000-00000000000a"
	u2     = "bbbbbbbb-0000-4000-8000-00000000000b"
	u3     = "cccccccc-0000-4000-8000-00000000000c"
	static = "0123456789abcdef0123456789abcdef" // a static pod's: kubelet's hash of its manifest
)

func TestParsePods(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   []string
	}{
		{"a JSON list (the cases' active-pods.json)", `["` + u2 + `","` + u1 + `"]`, []string{u1, u2}},
		{"a JSON list after a UTF-8 byte-order mark (an editor's)", "\xef\xbb\xbf[\"" + u1 + "\"]", []string{u1}},
		{"kubectl get pods -o json", `{"items":[{"metadata":{"name":"x","uid":"` + u1 + `"}},{"metadata":{"uid":"` + u2 + `"}}]}`, []string{u1, u2}},
		{"kubectl's mirror pod: the static pod's UID (what checkpoints hold) counts too",
			`{"items":[{"metadata":{"uid":"` + u3 + `","annotations":{"kubernetes.io/config.mirror":"` + static + `"}}}]}`, []string{static, u3}},
		{"crictl pods -o json (id is the sandbox, not the pod)", `{"items":[{"id":"0123abcd","metadata":{"name":"x","uid":"` + u1 + `","namespace":"n"}}]}`, []string{u1}},
		{"objects with uid", `[{"uid":"` + u1 + `"},{"podUID":"` + u2 + `"}]`, []string{u1, u2}},
		{"plain text, one per line, with comments", "# pods\n" + u1 + "\n\n" + u2 + " # last\n", []string{u1, u2}},
		{"plain text with commas and spaces", u1 + ", " + u2 + " " + static, []string{static, u1, u2}},
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
		{"an empty pod list", `{"items":[]}`},
		{"broken JSON", `["` + u1 + `"`},
		{"trailing JSON", `["` + u1 + `"] ["` + u2 + `"]`},
		{"an object without UIDs", `{"pods":1}`},
		{"a number", `[1]`},
		{"review item 1: kubectl's error saved instead of the list",
			`Error from server (Forbidden): pods is forbidden: User "system:node:x" cannot list resource "pods"`},
		{"review item 1: garbage that is no JSON", "not json {{{"},
		{"a UID among words", u1 + " and more"},
		{"a JSON list of names, not UIDs", `["app","db"]`},
		{"a pod without metadata.uid", `{"items":[{"metadata":{"name":"x"}}]}`},
		{"a crictl sandbox id alone is no pod UID", `[{"id":"0123abcd"}]`},
		{"a UUID with a wrong group length", `["aaaaaaaa-000-4000-8000-00000000000aa"]`},
	} {
		if _, err := ParsePods([]byte(tc.data)); !errors.Is(err, ErrPodList) {
			t.Errorf("%s: err %v, want ErrPodList", tc.reason, err)
		}
	}
}

func TestParseUIDList(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
		want   []string
		err    bool
	}{
		{reason: "commas, spaces and newlines", in: " " + u1 + ", " + u2 + "\n" + static + " ", want: []string{static, u1, u2}},
		{reason: "explicitly empty: no pod runs", in: "", want: []string{}},
		{reason: "a word that is no UID (review item 1)", in: u1 + ",app", err: true},
	} {
		p, err := ParseUIDList(tc.in)
		if tc.err {
			if !errors.Is(err, ErrPodList) {
				t.Errorf("%s: err %v, want ErrPodList", tc.reason, err)
			}
			continue
		}
		if got := p.Sorted(); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.reason, got, err, tc.want)
		}
	}
}
