package dockershim

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

var testdata = filepath.Join("..", "..", "testdata")

type manifestEntry struct {
	File        string `json:"file"`
	Consumer    string `json:"consumer"`
	Expect      string `json:"expect"`
	KindVersion string `json:"kind_version"`
	HashInput   string `json:"hash_input"`
}

// formatOfKindVersion maps the manifest's kind_version to the Format that
// Examine reports.
var formatOfKindVersion = map[string]string{
	"dockershim/sandbox-v1(1.10-1.23: hash over *Data)": FormatV1,
	"dockershim/sandbox-v1(pre-1.10 whole-struct hash)": FormatPre110,
}

func TestManifestVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdata, "kubelet-vectors", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []manifestEntry
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if e.Consumer != "dockershim" {
			continue
		}
		n++
		t.Run(e.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdata, "kubelet-vectors", e.File))
			if err != nil {
				t.Fatal(err)
			}
			if !Sniff(data) {
				t.Error("Sniff = false")
			}
			r := Examine(data)
			if e.Expect != "valid" || r.Verdict != check.Valid {
				t.Fatalf("verdict %s (expect %s): %v", r.Verdict, e.Expect, r.Err)
			}
			if want := formatOfKindVersion[e.KindVersion]; r.Format != want {
				t.Errorf("format %q, want %q", r.Format, want)
			}
			if e.HashInput != "" && r.Checksums[0].HashedText != e.HashInput {
				t.Errorf("hashed text\n got %q\nwant %q", r.Checksums[0].HashedText, e.HashInput)
			}
		})
	}
	if n == 0 {
		t.Fatal("no manifest entries for dockershim")
	}
}

func TestExamineCases(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		data    string
		verdict check.Verdict
		format  string
		rule    string
		problem check.DecodeProblem
	}{
		{reason: "round trip of Encode", data: mustEncode(t, tcp80()), verdict: check.Valid, format: FormatV1, rule: ruleV1},
		{reason: "early layout without HostIP verifies with its own rule", data: noHostIPFile(t), verdict: check.Valid,
			format: FormatV1, rule: ruleNoIP},
		{reason: "wrong checksum", data: `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":1}`,
			verdict: check.Corrupt, format: FormatV1, rule: ruleV1},
		{reason: "null data crashed kubelet; only the old rule can apply", data: `{"version":"v1","name":"n","namespace":"ns","data":null,"checksum":1}`,
			verdict: check.Corrupt, format: FormatPre110},
		{reason: "no name or namespace", data: `{"version":"v1","data":{},"checksum":1}`, verdict: check.Invalid,
			problem: check.ProblemContent},
		{reason: "port number of the wrong type", data: `{"name":"n","namespace":"ns","data":{"port_mappings":[{"host_port":"80"}]},"checksum":1}`,
			verdict: check.Invalid, problem: check.ProblemType},
		{reason: "empty file", data: ``, verdict: check.Invalid, problem: check.ProblemEmpty},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := Examine([]byte(tc.data))
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (%v)", r.Verdict, tc.verdict, r.Err)
			}
			if tc.format != "" && r.Format != tc.format {
				t.Errorf("format %q, want %q", r.Format, tc.format)
			}
			if tc.rule != "" && r.Checksums[0].Rule != tc.rule {
				t.Errorf("rule %q, want %q", r.Checksums[0].Rule, tc.rule)
			}
			if tc.verdict == check.Corrupt && !errors.Is(r.Err, check.ErrCorrupt) {
				t.Errorf("err %v, want ErrCorrupt", r.Err)
			}
			if tc.problem != "" {
				var de *check.DecodeError
				if !errors.As(r.Err, &de) || de.Problem != tc.problem {
					t.Errorf("err %v, want problem %s", r.Err, tc.problem)
				}
			}
		})
	}
}

func TestDecodeEncode(t *testing.T) {
	data := mustEncode(t, tcp80())
	cp, err := Decode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(*cp)
	if err != nil || !bytes.Equal(out, []byte(data)) {
		t.Fatalf("round trip: %s, %v", out, err)
	}
	if _, err := Encode(PodSandboxCheckpoint{Name: "n"}); !errors.Is(err, check.ErrInvalid) {
		t.Errorf("Encode with nil Data: %v, want ErrInvalid", err)
	}
	bad := strings.Replace(data, `"checksum":`, `"checksum":1`, 1)
	if _, err := Decode([]byte(bad)); !errors.Is(err, check.ErrCorrupt) {
		t.Errorf("Decode(bad checksum) = %v", err)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		want   bool
	}{
		{reason: "sandbox checkpoint", data: `{"version":"v1","name":"n","namespace":"ns","data":{},"checksum":1}`, want: true},
		{reason: "cut short after the name", data: `{"version":"v1","name":"n","names`, want: true},
		{reason: "example format (upper case, no namespace)", data: `{"Version":"v1","Name":"x","Data":{},"Checksum":1}`, want: false},
		{reason: "legacy DRA", data: `{"version":"v1","entries":[],"checksum":1}`, want: false},
		{reason: "allocation", data: `{"data":"{}","checksum":1}`, want: false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if got := Sniff([]byte(tc.data)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzExamine(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "kubelet-vectors", "dockershim", "*"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"name":"n","namespace":"ns","data":{"port_mappings":[null,{}]},"checksum":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Examine(data)
		if (r.Err == nil) != (r.Verdict == check.Valid) {
			t.Fatalf("verdict %s with err %v", r.Verdict, r.Err)
		}
		_ = Sniff(data)
		if cp, err := Decode(data); err == nil {
			if _, err := Encode(*cp); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func tcp80() PodSandboxCheckpoint {
	proto, cport, hport := Protocol("tcp"), int32(80), int32(8080)
	return PodSandboxCheckpoint{Version: "v1", Name: "nginx-7d9c", Namespace: "default",
		Data: &CheckpointData{PortMappings: []*PortMapping{{Protocol: &proto, ContainerPort: &cport, HostPort: &hport}}}}
}

func mustEncode(t *testing.T, cp PodSandboxCheckpoint) string {
	t.Helper()
	b, err := Encode(cp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noHostIPFile is a file whose checksum was made with the early PortMapping
// layout: (dockershim.CheckpointData){PortMappings:([]*dockershim.PortMapping)
// [<*>{Protocol:(*dockershim.Protocol)udp ContainerPort:(*int32)53 HostPort:(*int32)53}] HostNetwork:(bool)false}.
func noHostIPFile(t *testing.T) string {
	t.Helper()
	text := "(dockershim.CheckpointData){PortMappings:([]*dockershim.PortMapping)[<*>{Protocol:(*dockershim.Protocol)udp " +
		"ContainerPort:(*int32)53 HostPort:(*int32)53}] HostNetwork:(bool)false}"
	return `{"version":"v1","name":"dns","namespace":"kube-system","data":{"port_mappings":[{"protocol":"udp","container_port":53,"host_port":53}]},"checksum":` +
		strings.TrimSpace(fnvText(text)) + `}`
}
