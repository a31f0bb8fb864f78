// Command benchtable reads the output of several rounds of the interop
// benchmarks (go test -bench, any number of rounds concatenated) on standard
// input and prints, as Markdown, a table of medians with the ratios
// ckpt/kubelet and ckpt/floor, then the performance targets of issue 4 with
// the measured value of each and whether it is met.
//
// Benchmark names follow Benchmark<Op>/<case>/<impl>/g<goroutines>, with impl
// one of ckpt, kubelet and floor.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// key names one measured configuration.
type key struct {
	op, name, impl string
	g              int
}

// samples holds the values of one configuration, one per round.
type samples map[string][]float64 // unit -> values

var line = regexp.MustCompile(`^Benchmark(\w+)/([^/]+)/(ckpt|kubelet|floor)/g(\d+)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	data, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on standard input")
		os.Exit(1)
	}
	printTable(os.Stdout, data, order)
	printTargets(os.Stdout, data)
}

func parse(r io.Reader) (map[key]samples, []key, error) {
	data := map[key]samples{}
	var order []key
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		g, _ := strconv.Atoi(m[4])
		k := key{m[1], m[2], m[3], g}
		if data[k] == nil {
			data[k] = samples{}
			order = append(order, k)
		}
		// The rest is value/unit pairs: "123 ns/op 4 B/op ...".
		f := strings.Fields(m[5])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			data[k][f[i+1]] = append(data[k][f[i+1]], v)
		}
	}
	return data, order, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (d samples) med(unit string) float64 { return median(d[unit]) }

// row is one line of the table: a case measured on every implementation.
type row struct {
	op, name string
	g        int
}

func printTable(w io.Writer, data map[key]samples, order []key) {
	var rows []row
	seen := map[row]bool{}
	for _, k := range order {
		r := row{k.op, k.name, k.g}
		if !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	rounds := 0
	for _, s := range data {
		rounds = max(rounds, len(s["ns/op"]))
	}
	fmt.Fprintf(w, "Medians of %d rounds. Times are per operation; with 16 goroutines, wall time divided by operations (the inverse of throughput).\n\n", rounds)
	fmt.Fprintln(w, "| op | case | goroutines | ckpt | kubelet | floor | ckpt/kubelet | ckpt/floor | ckpt B/op | kubelet B/op | ckpt allocs | kubelet allocs |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		c, k, f := data[key{r.op, r.name, "ckpt", r.g}], data[key{r.op, r.name, "kubelet", r.g}], data[key{r.op, r.name, "floor", r.g}]
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			strings.ToLower(r.op), r.name, r.g,
			dur(c.med("ns/op")), dur(k.med("ns/op")), dur(f.med("ns/op")),
			ratio(c.med("ns/op"), k.med("ns/op")), ratio(c.med("ns/op"), f.med("ns/op")),
			num(c.med("B/op"), c["B/op"]), num(k.med("B/op"), k["B/op"]),
			num(c.med("allocs/op"), c["allocs/op"]), num(k.med("allocs/op"), k["allocs/op"]))
	}
	fmt.Fprintln(w)
}

func dur(ns float64) string {
	switch {
	case ns == 0:
		return "–"
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func num(v float64, present []float64) string {
	if len(present) == 0 {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// target is one of issue 4's targets, checked on the medians.
type target struct {
	what  string
	value func(m func(op, name, impl string, g int, unit string) float64) (float64, bool)
	goal  string
	met   func(v float64) bool
}

var consumers = []string{"cpumanager", "memorymanager", "devicemanager", "dra", "allocation"}

func targets() []target {
	speedup := func(name string) func(m func(string, string, string, int, string) float64) (float64, bool) {
		return func(m func(string, string, string, int, string) float64) (float64, bool) {
			c, k := m("Checksum", name, "ckpt", 1, "ns/op"), m("Checksum", name, "kubelet", 1, "ns/op")
			return k / c, c > 0 && k > 0
		}
	}
	ts := []target{
		{"checksum.New, device manager value: kubelet/ckpt", speedup("devicemanager"), ">= 20", func(v float64) bool { return v >= 20 }},
		{"checksum.New, cpu manager V2 struct: kubelet/ckpt", speedup("cpumanager-v2"), ">= 10", func(v float64) bool { return v >= 10 }},
	}
	for _, c := range consumers {
		ts = append(ts, target{"get " + c + ": ckpt/kubelet", func(m func(string, string, string, int, string) float64) (float64, bool) {
			a, b := m("Get", c, "ckpt", 1, "ns/op"), m("Get", c, "kubelet", 1, "ns/op")
			return a / b, a > 0 && b > 0
		}, "<= 0.5", func(v float64) bool { return v <= 0.5 }})
	}
	for _, c := range consumers {
		ts = append(ts, target{"get " + c + ": ckpt bytes allocated / file size", func(m func(string, string, string, int, string) float64) (float64, bool) {
			a, f := m("Get", c, "ckpt", 1, "B/op"), m("Get", c, "ckpt", 1, "file-bytes")
			return a / f, f > 0
		}, "<= 2", func(v float64) bool { return v <= 2 }})
	}
	for _, c := range consumers {
		ts = append(ts, target{"create " + c + ", 1 goroutine: ckpt/kubelet", func(m func(string, string, string, int, string) float64) (float64, bool) {
			a, b := m("Create", c, "ckpt", 1, "ns/op"), m("Create", c, "kubelet", 1, "ns/op")
			return a / b, a > 0 && b > 0
		}, "<= 1.0", func(v float64) bool { return v <= 1.0 }})
		ts = append(ts, target{"create " + c + ", 1 goroutine: ckpt/floor", func(m func(string, string, string, int, string) float64) (float64, bool) {
			a, b := m("Create", c, "ckpt", 1, "ns/op"), m("Create", c, "floor", 1, "ns/op")
			return a / b, a > 0 && b > 0
		}, "<= 1.2", func(v float64) bool { return v <= 1.2 }})
	}
	for _, c := range consumers {
		ts = append(ts, target{"create " + c + ", 16 goroutines on 16 keys: throughput ckpt/kubelet", func(m func(string, string, string, int, string) float64) (float64, bool) {
			a, b := m("Create", c, "ckpt", 16, "ns/op"), m("Create", c, "kubelet", 16, "ns/op")
			return b / a, a > 0 && b > 0
		}, ">= 3", func(v float64) bool { return v >= 3 }})
	}
	return ts
}

func printTargets(w io.Writer, data map[key]samples) {
	m := func(op, name, impl string, g int, unit string) float64 {
		return data[key{op, name, impl, g}].med(unit)
	}
	fmt.Fprintln(w, "| target | goal | measured | met |")
	fmt.Fprintln(w, "|---|---|---:|---|")
	for _, t := range targets() {
		v, ok := t.value(m)
		if !ok {
			fmt.Fprintf(w, "| %s | %s | not measured | – |\n", t.what, t.goal)
			continue
		}
		met := "no"
		if t.met(v) {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %.2f | %s |\n", t.what, t.goal, v, met)
	}
}
