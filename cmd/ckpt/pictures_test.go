package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectPictureCPU(t *testing.T) {
	path := casePath("B07-cpu-stale-entries-deleted-pods", "cpu_manager_state")
	out, _, code := ckpt(t, "inspect", path, "--sys", "")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	want := "Picture:\nCPUs: 8, placed in order\n    0 .    1 A    2 A    3 B    4 B    5 .    6 .    7 .\nLegend:\n" +
		"  .   default set (shared pool): 0,5-7\n  A   aaaaaaaa-0000-4000-8000-00000000000a/app: 1-2\n" +
		"  B   bbbbbbbb-0000-4000-8000-00000000000b/db: 3-4\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks\n%s\ngot\n%s", want, out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour on a non-terminal")
	}

	// A topology file places CPUs by socket, core and thread.
	topo := filepath.Join(t.TempDir(), "lscpu.txt")
	os.WriteFile(topo, []byte("# CPU,Core,Socket,Node\n0,0,0,0\n1,1,0,0\n2,2,0,0\n3,3,0,0\n4,0,0,0\n5,1,0,0\n6,2,0,0\n7,3,0,0\n"), 0o644)
	out, _, _ = ckpt(t, "inspect", path, "--topology", topo)
	if !strings.Contains(out, "  thread 0   0 .    1 A    2 A    3 B\n  thread 1   4 B    5 .    6 .    7 .\n") {
		t.Errorf("topology grid:\n%s", out)
	}

	// B05 with the machine's online CPUs marks the leaked ones.
	out, _, _ = ckpt(t, "inspect", casePath("B05-cpu-torn-multiwrite-leak-overlap", "leak", "cpu_manager_state"),
		"--topology", casePath("B05-cpu-torn-multiwrite-leak-overlap", "machine.json"))
	if !strings.Contains(out, "    0 .    1 ?    2 ?    3 .") || !strings.Contains(out, "held by nobody (leaked): 1-2") {
		t.Errorf("leak picture:\n%s", out)
	}
}

func TestInspectPictureMemoryJSON(t *testing.T) {
	path := casePath("B08-memory-numa-total-drift-after-reboot", "memory_manager_state")
	out, _, _ := ckpt(t, "inspect", path, "--no-color")
	if !strings.Contains(out, "NUMA node 0 (cells 0, 0 assignments)") || !strings.Contains(out, "64 GiB total: 1 GiB system reserved, 0 B reserved, 63 GiB free") {
		t.Errorf("memory picture:\n%s", out)
	}
	out, _, _ = ckpt(t, "inspect", "-o", "json", path)
	var v struct {
		Sections map[string]struct {
			Nodes []struct {
				Node int
				Bars []struct{ Resource string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if p, ok := v.Sections["picture"]; !ok || len(p.Nodes) != 2 || len(p.Nodes[0].Bars) != 2 {
		t.Errorf("picture section: %+v", v.Sections)
	}
}
