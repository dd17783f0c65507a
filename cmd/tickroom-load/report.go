package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// row is one line of a result table: a figure, its value and its target.
type row struct{ name, value, target string }

func printTable(w io.Writer, title string, rows []row) error {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\ttarget")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, r.value, r.target)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("report: encode json: %w", err)
	}
	return nil
}

// num formats an optional figure; nil prints as "n/a".
func num(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

func ptr(v float64) *float64 { return &v }

// perSecond returns total / (n * seconds), or nil when it would be undefined.
func perSecond(total int64, n int, seconds float64) *float64 {
	if n == 0 || seconds <= 0 {
		return nil
	}
	return ptr(float64(total) / float64(n) / seconds)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// progress writes a live status line to stderr: rewritten in place on a
// terminal, one line a second otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	quiet bool
	last  int
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) line(format string, args ...any) {
	if p.quiet {
		return
	}
	s := fmt.Sprintf(format, args...)
	if !p.tty {
		fmt.Fprintln(p.w, s)
		return
	}
	pad := ""
	if n := p.last - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
	p.last = len(s)
}

// done ends the live line so that what follows starts on its own line.
func (p *progress) done() {
	if p.tty && !p.quiet && p.last > 0 {
		fmt.Fprintln(p.w)
		p.last = 0
	}
}
