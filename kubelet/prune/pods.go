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

// NewPods returns the set of uids (empty strings are skipped).
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

// ParseUIDList parses pod UIDs separated by commas, spaces or newlines (the
// --keep-pods flag).
func ParseUIDList(s string) Pods {
	return NewPods(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
}

// ParsePods reads the pods of a node from any of these shapes:
//
//   - a JSON array of UID strings (the cases' active-pods.json);
//   - a JSON object with "items" whose elements have metadata.uid
//     (`kubectl get pods -o json --field-selector spec.nodeName=NODE`,
//     `crictl pods -o json`), or a "uid"/"id" member;
//   - plain text: UIDs separated by white space or commas, with # comments.
//
// It fails, wrapping ErrPodList, when no UID is found: an empty list would
// make every entry stale, which is rarely what was meant (use NewPods for an
// explicitly empty set).
func ParsePods(data []byte) (Pods, error) {
	t := bytes.TrimSpace(data)
	var p Pods
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
		p = Pods{}
		if err := collectUIDs(v, p, 0); err != nil {
			return nil, err
		}
	default:
		var lines []string
		for line := range strings.SplitSeq(string(t), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			lines = append(lines, line)
		}
		p = ParseUIDList(strings.Join(lines, "\n"))
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: no pod UID found", ErrPodList)
	}
	return p, nil
}

func collectUIDs(v any, p Pods, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%w: JSON nested too deeply for a pod list", ErrPodList)
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := collectUIDs(e, p, depth+1); err != nil {
				return err
			}
		}
	case string:
		if x = strings.TrimSpace(x); x != "" {
			p[x] = struct{}{}
		}
	case map[string]any:
		if items, ok := x["items"]; ok {
			return collectUIDs(items, p, depth+1)
		}
		if md, ok := x["metadata"].(map[string]any); ok {
			if uid, ok := md["uid"].(string); ok && uid != "" {
				p[uid] = struct{}{}
				return nil
			}
		}
		for _, k := range []string{"uid", "podUID", "id"} {
			if uid, ok := x[k].(string); ok && uid != "" {
				p[uid] = struct{}{}
				return nil
			}
		}
		return fmt.Errorf("%w: a JSON object without items, metadata.uid or uid", ErrPodList)
	default:
		return fmt.Errorf("%w: JSON value %v is not a pod UID", ErrPodList, v)
	}
	return nil
}
