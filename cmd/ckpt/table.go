package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// table aligns tab-separated cells into columns, like tabwriter, and drops
// the padding tabwriter leaves at the end of a line whose last cells are
// empty.
type table struct {
	out io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(out io.Writer) *table {
	t := &table{out: out}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

// row writes one line; cells are separated by tabs in format.
func (t *table) row(format string, args ...any) {
	fmt.Fprintf(t.tw, format+"\n", args...)
}

// flush writes the aligned lines.
func (t *table) flush() {
	t.tw.Flush()
	for _, line := range strings.SplitAfter(t.buf.String(), "\n") {
		if line == "" {
			continue
		}
		io.WriteString(t.out, strings.TrimRight(line, " \n")+"\n")
	}
	t.buf.Reset()
}

// printable returns s for a terminal: text from a file (container names,
// cpusets, paths) may hold control characters that would move the cursor or
// break a one-line-per-file listing, so such a string is shown quoted, with
// escapes.
func printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return strconv.Quote(s)
		}
	}
	return s
}

// printableRow applies printable to every cell.
func printableRow(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = printable(c)
	}
	return out
}
