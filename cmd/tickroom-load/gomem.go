package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// readGoMem reads the server's Go memory statistics from its pprof pages
// (the heap page ends with runtime.MemStats; the goroutine page starts with
// the goroutine count) and divides them by the connections held. With
// heapProfile set it also saves the binary heap profile for go tool pprof.
func (res *idleResult) readGoMem(ctx context.Context, a *api, t *target, heapProfile string) {
	n := float64(max(1, res.ConnsHeld))
	if body, err := pprofGet(ctx, a, t.PprofURL+"/heap?debug=1"); err == nil {
		stats := parseMemStats(body)
		if v, ok := stats["HeapInuse"]; ok {
			res.HeapInusePerConn = ptr(v / n)
		}
		if v, ok := stats["Stack"]; ok {
			res.StackInusePerConn = ptr(v / n)
		}
		var parts []string
		for _, k := range []string{"Sys", "HeapSys", "HeapInuse", "HeapIdle", "HeapReleased", "Stack", "MSpan", "NextGC", "NumGC"} {
			if v, ok := stats[k]; ok {
				parts = append(parts, fmt.Sprintf("%s=%.0f", k, v))
			}
		}
		res.ServerGoMemStats = strings.Join(parts, " ")
	}
	if body, err := pprofGet(ctx, a, t.PprofURL+"/goroutine?debug=1"); err == nil {
		line, _, _ := strings.Cut(body, "\n")
		if v, err := strconv.ParseFloat(strings.TrimPrefix(line, "goroutine profile: total "), 64); err == nil {
			res.GoroutinesPerConn = ptr(v / n)
		}
	}
	// Last, as it changes the server: a forced collection, to tell live
	// memory from garbage the collector has not yet come back for.
	if body, err := pprofGet(ctx, a, t.PprofURL+"/heap?gc=1&debug=1"); err == nil {
		if v, ok := parseMemStats(body)["HeapAlloc"]; ok {
			res.LiveHeapPerConn = ptr(v / n)
		}
	}
	if heapProfile != "" {
		if body, err := pprofGet(ctx, a, t.PprofURL+"/heap"); err == nil {
			if err := os.WriteFile(heapProfile, []byte(body), 0o644); err != nil {
				res.FirstError = strings.TrimSpace(res.FirstError + " (heap profile: " + err.Error() + ")")
			}
		}
	}
}

func pprofGet(ctx context.Context, a *api, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("pprof: %w", err)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("pprof: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pprof: %s: status %d", url, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return "", fmt.Errorf("pprof: read %s: %w", url, err)
	}
	return string(b), nil
}

// parseMemStats reads the "# Name = value" lines runtime/pprof appends to a
// debug=1 heap profile; "# Stack = inuse / sys" keeps the in-use figure.
func parseMemStats(body string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok || strings.ContainsAny(k, " :") {
			continue
		}
		first, _, _ := strings.Cut(v, " ")
		if f, err := strconv.ParseFloat(first, 64); err == nil {
			out[k] = f
		}
	}
	return out
}
