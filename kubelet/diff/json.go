package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// KindJSON is the Kind of a Diff between two JSON documents that are no
// kubelet checkpoint (a driver's own checkpoint payloads, for example).
const KindJSON = "json"

// compareJSON compares two JSON documents by structure: every leaf is keyed
// by its path ("preparedClaims.<uid>.preparedDevices[0].configState.x"), so
// that key order and white space do not count. A string member that holds
// a JSON object or array (a data-string checkpoint) is compared as that
// document. Changes that only add or remove empty values (false, 0, "",
// null, {} or []) carry the detail "empty value", which tells a re-marshal
// with another omitempty from a real change.
func compareJSON(a, b []byte) ([]Change, error) {
	ia, err := flattenJSON(a)
	if err != nil {
		return nil, err
	}
	ib, err := flattenJSON(b)
	if err != nil {
		return nil, err
	}
	changes := compareItems(ia, ib)
	for i, c := range changes {
		if c.Op != Changed && isEmptyJSON(c.From+c.To) {
			changes[i].Detail = "empty value"
		}
	}
	return changes, nil
}

// OnlyEmpty reports whether every change adds or removes an empty value.
func (d *Diff) OnlyEmpty() bool {
	for _, c := range d.Changes {
		if c.Detail != "empty value" {
			return false
		}
	}
	return len(d.Changes) > 0
}

func isEmptyJSON(v string) bool {
	switch v {
	case `""`, "0", "false", "null", "{}", "[]":
		return true
	}
	return false
}

func flattenJSON(data []byte) ([]item, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrNoContent, err)
	}
	var out []item
	walkJSON("", v, &out, 0)
	return out, nil
}

func walkJSON(path string, v any, out *[]item, depth int) {
	leaf := func(val string) {
		p := path
		if p == "" {
			p = "(document)"
		}
		*out = append(*out, item{"json", p, val})
	}
	if depth > 64 {
		b, _ := json.Marshal(v)
		leaf(string(b))
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			leaf("{}")
			return
		}
		for k, e := range x {
			walkJSON(joinPath(path, k), e, out, depth+1)
		}
	case []any:
		if len(x) == 0 {
			leaf("[]")
			return
		}
		for i, e := range x {
			walkJSON(path+"["+strconv.Itoa(i)+"]", e, out, depth+1)
		}
	case string:
		if t := strings.TrimSpace(x); len(t) > 1 && (t[0] == '{' || t[0] == '[') {
			var inner any
			dec := json.NewDecoder(strings.NewReader(t))
			dec.UseNumber()
			if dec.Decode(&inner) == nil && !dec.More() {
				walkJSON(path+"<json>", inner, out, depth+1)
				return
			}
		}
		b, _ := json.Marshal(x)
		leaf(string(b))
	case json.Number:
		leaf(x.String())
	case bool:
		leaf(strconv.FormatBool(x))
	case nil:
		leaf("null")
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
