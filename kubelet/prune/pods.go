package prune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// ErrPodList is wrapped by every error about a pod list that cannot be read.
var ErrPodList = errors.New("bad pod list")

// Pods is the set of pod UIDs that exist on the node: entries of any other
// pod are stale.
type Pods map[string]struct{}

// NewPods returns the set of uids (empty strings are skipped). It does not
// check their syntax: it is for callers that already hold UIDs.
func NewPods(uids ...string) Pods {
	p := Pods{}
	for _, u := range uids {
		if u = strings.TrimSpace(u); u != "" {
			p[u] = struct{}{}
		}
	}
	return p
}

// Has reports whether uid is in the set.
func (p Pods) Has(uid string) bool {
	_, ok := p[uid]
	return ok
}

// Sorted returns the UIDs in ascending order.
func (p Pods) Sorted() []string {
	out := make([]string, 0, len(p))
	for u := range p {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// IsUID reports whether s has the syntax of a pod UID as kubelet keys its
// checkpoints: an RFC 4122 UUID (8-4-4-4-12 hex digits, what the API server
// assigns) or 32 hex digits (the hash kubelet gives a static pod).
//
// Why check at all: a pod list is the one input that decides which entries
// prune deletes, and an error message or a wrong file read as "UIDs" makes
// every entry stale (review item 1).
func IsUID(s string) bool {
	hex := func(r byte) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' }
	switch len(s) {
	case 32:
		for i := 0; i < len(s); i++ {
			if !hex(s[i]) {
				return false
			}
		}
		return true
	case 36:
		for i := 0; i < len(s); i++ {
			switch i {
			case 8, 13, 18, 23:
				if s[i] != '-' {
					return false
				}
			default:
				if !hex(s[i]) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// uidSyntax says what IsUID accepts, for error messages.
const uidSyntax = "a pod UID is 8-4-4-4-12 hex digits (e.g. aaaaaaaa-0000-4000-8000-00000000000a) or 32 hex digits"

// ParseUIDList parses pod UIDs separated by commas, spaces or newlines (the
// --keep-pods flag). An empty s is the empty set (no pod runs). It fails,
// wrapping ErrPodList, on a word that is not a pod UID (IsUID).
func ParseUIDList(s string) (Pods, error) {
	p := Pods{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if !IsUID(w) {
			return nil, fmt.Errorf("%w: %q is not a pod UID (%s)", ErrPodList, w, uidSyntax)
		}
		p[w] = struct{}{}
	}
	return p, nil
}

// ParsePods reads the pods of a node from one of these shapes, and nothing
// else:
//
//   - a JSON array of UID strings (the cases' active-pods.json);
//   - a JSON pod list whose items have metadata.uid
//     (`kubectl get pods -o json --field-selector spec.nodeName=NODE`,
//     `crictl pods -o json`), or a JSON array of such pods; a mirror pod's
//     kubernetes.io/config.mirror annotation (the UID kubelet gives the
//     static pod, which is what its checkpoints hold) counts too;
//   - plain text: pod UIDs, one per line (or separated by white space or
//     commas), with # comments.
//
// A leading UTF-8 byte-order mark is ignored. Every UID must have a pod
// UID's syntax (IsUID): text that is not a pod list (an error message
// saved instead of the list, say) fails, wrapping ErrPodList, instead of
// being read as UIDs that match nothing. It also fails when no UID is
// found: an empty list would make every entry stale, which is rarely what
// was meant (use NewPods for an explicitly empty set).
func ParsePods(data []byte) (Pods, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	t := bytes.TrimSpace(data)
	p := Pods{}
	switch {
	case len(t) > 0 && (t[0] == '[' || t[0] == '{'):
		var v any
		dec := json.NewDecoder(bytes.NewReader(t))
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: JSON: %w", ErrPodList, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: JSON: trailing data after the document", ErrPodList)
		}
		if err := collectUIDs(v, p, 0); err != nil {
			return nil, err
		}
	default:
		for i, line := range strings.Split(string(t), "\n") {
			if j := strings.IndexByte(line, '#'); j >= 0 {
				line = line[:j]
			}
			for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
				if !IsUID(w) {
					return nil, fmt.Errorf("%w: line %d: %q is not a pod UID (%s; the file must hold pod UIDs, "+
						"one per line, a JSON list of them, or kubectl/crictl pods -o json)", ErrPodList, i+1, w, uidSyntax)
				}
				p[w] = struct{}{}
			}
		}
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: no pod UID found (when no pod runs on the node, say so with --keep-pods '')", ErrPodList)
	}
	return p, nil
}

// mirrorAnnotation holds, on a mirror pod, the UID of the static pod that
// kubelet keys its checkpoints by.
const mirrorAnnotation = "kubernetes.io/config.mirror"

func collectUIDs(v any, p Pods, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%w: JSON nested too deeply for a pod list", ErrPodList)
	}
	add := func(uid, where string) error {
		if !IsUID(uid) {
			return fmt.Errorf("%w: %s %q is not a pod UID (%s)", ErrPodList, where, uid, uidSyntax)
		}
		p[uid] = struct{}{}
		return nil
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := collectUIDs(e, p, depth+1); err != nil {
				return err
			}
		}
	case string:
		return add(strings.TrimSpace(x), "list element")
	case map[string]any:
		if items, ok := x["items"]; ok {
			if _, isList := items.([]any); !isList {
				return fmt.Errorf("%w: \"items\" is not a JSON array", ErrPodList)
			}
			return collectUIDs(items, p, depth+1)
		}
		if md, ok := x["metadata"].(map[string]any); ok {
			uid, ok := md["uid"].(string)
			if !ok {
				return fmt.Errorf("%w: a pod without metadata.uid", ErrPodList)
			}
			if err := add(uid, "metadata.uid"); err != nil {
				return err
			}
			if ann, ok := md["annotations"].(map[string]any); ok {
				if m, ok := ann[mirrorAnnotation].(string); ok && IsUID(m) {
					p[m] = struct{}{}
				}
			}
			return nil
		}
		for _, k := range []string{"uid", "podUID"} {
			if uid, ok := x[k].(string); ok {
				return add(uid, k)
			}
		}
		return fmt.Errorf("%w: a JSON object without items, metadata.uid or uid (not a pod list)", ErrPodList)
	default:
		return fmt.Errorf("%w: JSON value %v is not a pod UID", ErrPodList, v)
	}
	return nil
}
