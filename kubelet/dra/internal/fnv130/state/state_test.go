package state

import (
	"encoding/json"
	"testing"

	"github.com/davecgh/go-spew/spew"
)

// TestTextMatchesGoSpew checks the printer against go-spew itself on the
// 1.30 shape, including structured data (RawExtension with its nil
// runtime.Object interface and an embedded struct), which no reference file
// covers.
func TestTextMatchesGoSpew(t *testing.T) {
	for _, tc := range []struct {
		reason string
		json   string
	}{
		{reason: "no entries", json: `{"version":"v1","checksum":5}`},
		{reason: "null entries and null handles", json: `{"entries":[{"ClaimUID":"u","ResourceHandles":null}]}`},
		{reason: "structured data", json: `{"version":"v1","entries":[{"DriverName":"d","PodUIDs":{"b":{},"a":{}},
			"ResourceHandles":[{"driverName":"d","structuredData":{"vendorClassParameters":{"x": 1},"nodeName":"n",
			"results":[{"vendorRequestParameters":[1,2],"namedResources":{"name":"gpu-0"}},{}]}}],
			"CDIDevices":{"d":["c"]}}],"checksum":1}`},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			cp := New()
			if err := json.Unmarshal([]byte(tc.json), cp); err != nil {
				t.Fatal(err)
			}
			c := *cp
			c.Checksum = 0
			cfg := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
			if got, want := cp.Text(), cfg.Sprintf("%#v", &c); got != want {
				t.Errorf("text\n got %q\nwant %q", got, want)
			}
		})
	}
}
