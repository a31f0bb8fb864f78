package checksum_test

import (
	"fmt"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// benchEntry has the shape of the device manager's PodDevicesEntry.
type benchEntry struct {
	PodUID        string
	ContainerName string
	ResourceName  string
	DeviceIDs     map[int64][]string
	AllocResp     []byte
}

type benchData struct {
	PodDeviceEntries  []benchEntry
	RegisteredDevices map[string][]string
}

// deviceValue is a device manager checkpoint of 110 pods with 8 devices each.
func deviceValue() benchData {
	d := benchData{RegisteredDevices: map[string][]string{}}
	for r := range 2 {
		name := fmt.Sprintf("example.com/dev%d", r)
		for i := range 64 {
			d.RegisteredDevices[name] = append(d.RegisteredDevices[name], fmt.Sprintf("dev-%d-%d", r, i))
		}
	}
	for p := range 110 {
		ids := map[int64][]string{}
		for i := range 8 {
			ids[int64(i%2)] = append(ids[int64(i%2)], fmt.Sprintf("dev-%d-%d", p%2, (p*8+i)%64))
		}
		d.PodDeviceEntries = append(d.PodDeviceEntries, benchEntry{
			PodUID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", p), ContainerName: "ctr", ResourceName: "example.com/dev0",
			DeviceIDs: ids, AllocResp: make([]byte, 120),
		})
	}
	return d
}

func BenchmarkNewDeviceManager(b *testing.B) {
	v := deviceValue()
	b.ReportAllocs()
	for b.Loop() {
		checksum.New(v)
	}
}

// BenchmarkGoSpewDeviceManager is the same value hashed the way kubelet
// does it, through go-spew: the baseline for BenchmarkNewDeviceManager.
func BenchmarkGoSpewDeviceManager(b *testing.B) {
	v := deviceValue()
	b.ReportAllocs()
	for b.Loop() {
		reference(v)
	}
}

func BenchmarkOfString(b *testing.B) {
	s := spew.Sdump(deviceValue())
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		checksum.OfString(s)
	}
}
