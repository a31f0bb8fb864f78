package checkpoint

import (
	"hash/fnv"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// spewText is kubelet's hash text, produced by go-spew itself.
func spewText(v any) string {
	cfg := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	return cfg.Sprintf("%#v", v)
}

func fnv32a(s string) checksum.Checksum {
	h := fnv.New32a()
	h.Write([]byte(s))
	return checksum.Checksum(h.Sum32())
}

func TestTextMatchesGoSpew(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   *Data
	}{
		{reason: "empty as kubelet decodes into", data: NewEmpty()},
		{reason: "nil slice and map", data: New(nil, nil)},
		{reason: "entries with NUMA maps, nil and empty AllocResp", data: New([]PodDevicesEntry{
			{PodUID: "p", ContainerName: "c", ResourceName: "r", DeviceIDs: DevicesPerNUMA{1: {"b"}, 0: {"a"}, -1: nil}, AllocResp: []byte{1, 2}},
			{PodUID: "q", DeviceIDs: DevicesPerNUMA{}, AllocResp: []byte{}},
			{PodUID: "z"},
		}, map[string][]string{"r": {"a", "b"}, "e": {}, "n": nil})},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			want := spewText(tc.data.Data)
			if got := tc.data.Text(); got != want {
				t.Errorf("text\n got %q\nwant %q", got, want)
			}
			if got := tc.data.Computed(); got != fnv32a(want) {
				t.Errorf("checksum %d, want %d", got, fnv32a(want))
			}
		})
	}
}

func TestV1TextReplacesNames(t *testing.T) {
	d := NewEmptyV1()
	d.Data.PodDeviceEntries = append(d.Data.PodDeviceEntries, PodDevicesEntryV1{PodUID: "p", DeviceIDs: []string{"d"}})
	want := "(checkpoint.checkpointData){PodDeviceEntries:([]checkpoint.PodDevicesEntry)[{PodUID:(string)p ContainerName:(string) " +
		"ResourceName:(string) DeviceIDs:([]string)[d] AllocResp:([]uint8)<nil>}] RegisteredDevices:(map[string][]string)map[]}"
	if got := d.Text(); got != want {
		t.Errorf("text\n got %q\nwant %q", got, want)
	}
	if d.Computed() != fnv32a(want) {
		t.Error("Computed is not the hash of Text")
	}
}
