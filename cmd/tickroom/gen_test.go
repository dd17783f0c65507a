package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedTypesAreCommitted fails when the committed declarations of
// the built-in room types differ from what `tickroom gen ts` writes now.
func TestGeneratedTypesAreCommitted(t *testing.T) {
	var got bytes.Buffer
	if err := runGen([]string{"ts"}, &got, io.Discard); err != nil {
		t.Fatalf("gen ts: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", generatedTS))
	if err != nil {
		t.Fatalf("read the committed declarations: %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("%s is stale: run 'go run ./cmd/tickroom gen ts -o %s' and commit it", generatedTS, generatedTS)
	}
}

func TestGenWritesAFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rooms.ts")
	var stdout bytes.Buffer
	if err := runGen([]string{"ts", "-o", out}, &stdout, io.Discard); err != nil {
		t.Fatalf("gen ts -o: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("read %s: %v", out, err)
	}
	if stdout.Len() != 0 {
		t.Errorf("gen ts -o also wrote %d bytes to standard output", stdout.Len())
	}
	for _, want := range []string{"export interface ArenaRoom {", "export interface ArenaBenchRoom {", "export interface BoardRoom {",
		"op: 'create';", "shape: 0 | 1;", "kind: 'pickup';", "  'arena-bench': ArenaBenchRoom;"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestGenRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{nil, {"go"}, {"ts", "extra"}, {"ts", "-x"}} {
		if err := runGen(args, io.Discard, io.Discard); err == nil {
			t.Errorf("gen %q: no error", args)
		}
	}
}
