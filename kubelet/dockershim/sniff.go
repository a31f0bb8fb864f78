package dockershim

import (
	"bytes"
	"encoding/json"
	"strings"
)

// member is one key of a JSON object seen by scanObject: the first byte of
// its value ('{', '[', '"', 'n', ...) and the value's bytes (complete, or
// cut short when the document is).
type member struct {
	key   string
	first byte
	raw   []byte
}

// scanObject lists the members of the JSON object in data, in file order.
// It never fails: it stops quietly where the bytes stop making sense, so a
// truncated or trailing-garbage file still shows the keys it starts with.
// Sniffing needs only that, and must stay cheap and panic-free.
func scanObject(data []byte) []member {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		key, ok := tok.(string)
		if !ok {
			return out
		}
		start := int(dec.InputOffset())
		for start < len(data) && strings.IndexByte(" \t\r\n:", data[start]) >= 0 {
			start++
		}
		if start >= len(data) {
			return append(out, member{key: key})
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(out, member{key: key, first: data[start], raw: data[start:]})
		}
		out = append(out, member{key: key, first: data[start], raw: raw})
	}
	return out
}

// find returns the first member whose key equals name, ignoring case as
// encoding/json does when it matches keys to fields.
func find(ms []member, name string) (member, bool) {
	for _, m := range ms {
		if strings.EqualFold(m.key, name) {
			return m, true
		}
	}
	return member{}, false
}
