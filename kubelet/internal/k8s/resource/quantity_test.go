package resource

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// TestDecodeMatchesApimachinery compares our decoding of every input in the
// oracle file with what apimachinery v0.31.4 holds after json.Unmarshal, as
// printed by kubelet's hash printer (see testdata/README.md).
func TestDecodeMatchesApimachinery(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "apimachinery-v0.31.4-quantities.json"))
	if err != nil {
		t.Fatal(err)
	}
	var oracle map[string]string
	if err := json.Unmarshal(b, &oracle); err != nil {
		t.Fatal(err)
	}
	inputs := make([]string, 0, len(oracle))
	for in := range oracle {
		inputs = append(inputs, in)
	}
	sort.Strings(inputs)
	cfg := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			var q Quantity
			err := json.Unmarshal([]byte(in), &q)
			if oracle[in] == "ERROR" {
				if err == nil {
					t.Fatalf("decoded %s, apimachinery rejects it", in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Sprintf("%#v", q); got != oracle[in] {
				t.Errorf("go-spew text\n got %s\nwant %s", got, oracle[in])
			}
			if got := checksum.Text(q); got != oracle[in] {
				t.Errorf("checksum text\n got %s\nwant %s", got, oracle[in])
			}
		})
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"1Ki", "1.5Gi", "0.0000000001", "1e", "-1.5", "12e-3", "1Mi5", "+.5E3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err == nil {
			_ = checksum.Text(q)
		}
	})
}
