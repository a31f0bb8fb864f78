package check

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Member is one key of a JSON object seen by ScanObject: the First byte of
// its value ('{', '[', '"', 'n', ...) and the value's bytes (complete, or
// cut short when the document is).
type Member struct {
	Key   string
	First byte
	Raw   []byte
}

// ScanObject lists the members of the JSON object in data, in file order.
// It never fails: it stops quietly where the bytes stop making sense, so a
// truncated or trailing-garbage file still shows the keys it starts with.
// Sniffing needs only that, and must stay cheap and panic-free.
func ScanObject(data []byte) []Member {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []Member
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
			return append(out, Member{Key: key})
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(out, Member{Key: key, First: data[start], Raw: data[start:]})
		}
		out = append(out, Member{Key: key, First: data[start], Raw: raw})
	}
	return out
}

// Find returns the first Member whose key equals name, ignoring case as
// encoding/json does when it matches keys to fields.
func Find(ms []Member, name string) (Member, bool) {
	for _, m := range ms {
		if strings.EqualFold(m.Key, name) {
			return m, true
		}
	}
	return Member{}, false
}
