package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tickroom.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestConfigPrecedence: a flag beats its variable, which beats the file,
// which beats the default.
func TestConfigPrecedence(t *testing.T) {
	path := writeConfig(t, `
max-rooms = 5
seat-grace = "9s"
pprof = true
input-rate = 3
allowed-origins = "https://a.example"
`)
	c, err := parseFlags([]string{"-config", path, "-max-rooms", "13"},
		envOf(map[string]string{"TICKROOM_SEAT_GRACE": "7s"}), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if c.rooms.MaxRooms != 13 {
		t.Errorf("max-rooms: got %d, want 13 (the flag beats the file)", c.rooms.MaxRooms)
	}
	if c.rooms.SeatGrace != 7*time.Second {
		t.Errorf("seat-grace: got %v, want 7s (the variable beats the file)", c.rooms.SeatGrace)
	}
	if !c.server.Pprof || c.server.InputRate != 3 || len(c.server.AllowedOrigins) != 1 {
		t.Errorf("from the file: got pprof %v, input-rate %v, origins %q; want true, 3, [https://a.example]",
			c.server.Pprof, c.server.InputRate, c.server.AllowedOrigins)
	}
	if c.addr != ":8080" {
		t.Errorf("addr: got %q, want the default :8080", c.addr)
	}
}

func TestConfigFileFromTheEnvironment(t *testing.T) {
	path := writeConfig(t, "name-max-len = 9\n")
	c, err := parseFlags(nil, envOf(map[string]string{"TICKROOM_CONFIG": path}), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if c.rooms.NameMaxLen != 9 {
		t.Errorf("name-max-len: got %d, want 9 from the file TICKROOM_CONFIG names", c.rooms.NameMaxLen)
	}
}

// TestConfigDefaultsReadBack: what `config defaults` prints is a config
// file that changes nothing, and it names every flag.
func TestConfigDefaultsReadBack(t *testing.T) {
	var out bytes.Buffer
	if err := runConfig([]string{"defaults"}, &out, io.Discard); err != nil {
		t.Fatalf("config defaults: %v", err)
	}
	path := writeConfig(t, out.String())
	withFile, err := parseFlags([]string{"-config", path}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags with the defaults file: %v", err)
	}
	plain, err := parseFlags(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	withFile.configFile = ""
	if !reflect.DeepEqual(withFile, plain) {
		t.Errorf("the defaults file changed settings:\n got %+v\nwant %+v", withFile, plain)
	}
	for _, key := range []string{"addr", "seat-grace", "input-rate", "pprof", "max-rooms", "dormant-max-age", "spectate-link-ttl"} {
		if !strings.Contains(out.String(), "\n"+key+" = ") {
			t.Errorf("config defaults lacks %q", key)
		}
	}
	if strings.Contains(out.String(), "\nconfig = ") {
		t.Error("config defaults lists the config key itself")
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", "max-room = 3\n", `unknown key "max-room"`},
		{"a config names a config", "config = \"other.toml\"\n", `unknown key "config"`},
		{"table", "[server]\naddr = \":1\"\n", `unknown key "server"`},
		{"string for a number", "max-rooms = \"many\"\n", "max-rooms = many: want a whole number"},
		{"number for a duration", "seat-grace = 30\n", `seat-grace = 30: want a duration such as "30s"`},
		{"bad duration", "seat-grace = \"soon\"\n", `seat-grace = soon: want a duration`},
		{"float for an int", "max-rooms = 2.5\n", "max-rooms = 2.5: want a whole number"},
		{"string for a bool", "pprof = \"yes\"\n", "pprof = yes: want true or false"},
		{"not TOML", "addr = \n", "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			_, err := parseFlags([]string{"-config", path}, envOf(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := parseFlags([]string{"-config", filepath.Join(t.TempDir(), "none.toml")}, envOf(nil), io.Discard); err == nil {
		t.Error("a missing config file: no error")
	}
}
