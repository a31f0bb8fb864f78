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
	b.SetBytes(int64(len(checksum.Text(v))))
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

// cpuCheckpoint has the shape of kubelet's cpu manager V2 checkpoint.
type cpuCheckpoint struct {
	PolicyName    string
	DefaultCPUSet string
	Entries       map[string]map[string]string
	Checksum      checksum.Checksum
}

// cpuValue is a cpu manager checkpoint of 105 pods with two containers
// each, the size of testdata's realistic file.
func cpuValue() *cpuCheckpoint {
	cp := &cpuCheckpoint{PolicyName: "static", DefaultCPUSet: "0,64", Entries: map[string]map[string]string{}}
	for p := range 105 {
		uid := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", p*2654435761%(1<<32), p*7, p, p*3, p*11)
		cp.Entries[uid] = map[string]string{
			"app":     fmt.Sprintf("%d-%d,%d-%d", p%60, p%60+2, p%60+64, p%60+66),
			"sidecar": fmt.Sprintf("%d,%d", p%60+3, p%60+67),
		}
	}
	return cp
}

func BenchmarkNewCPUManager(b *testing.B) {
	v := cpuValue()
	b.SetBytes(int64(len(checksum.Text(v))))
	b.ReportAllocs()
	for b.Loop() {
		checksum.New(v)
	}
}

func BenchmarkGoSpewCPUManager(b *testing.B) {
	v := cpuValue()
	b.ReportAllocs()
	for b.Loop() {
		reference(v)
	}
}

func BenchmarkText(b *testing.B) {
	v := cpuValue()
	b.ReportAllocs()
	for b.Loop() {
		checksum.Text(v)
	}
}

func BenchmarkOfString(b *testing.B) {
	s := spew.Sdump(deviceValue())
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		checksum.OfString(s)
	}
}
