package server

import (
	"net"
	"testing"
)

func TestClientKeyGroupsIPv6By64(t *testing.T) {
	key := func(ip string) string {
		return clientKey(&net.TCPAddr{IP: net.ParseIP(ip), Port: 1234}).String()
	}
	for _, tt := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}, // one /64
		{"192.0.2.7", "::ffff:192.0.2.7"},           // IPv4, mapped or not
	} {
		if ka, kb := key(tt.a), key(tt.b); ka != kb {
			t.Errorf("%s and %s: keys %s and %s, want one key", tt.a, tt.b, ka, kb)
		}
	}
	for _, tt := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"}, // two /64s
		{"192.0.2.7", "192.0.2.8"},
	} {
		if ka, kb := key(tt.a), key(tt.b); ka == kb {
			t.Errorf("%s and %s: one key %s, want two", tt.a, tt.b, ka)
		}
	}
}

// Behind a proxy every connection is the proxy's: the default cap would cap
// the whole service, so there is none unless one is set.
func TestConnsPerIPDefaultBehindAProxy(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Config
		want int
	}{
		{"direct", Config{}, 256},
		{"proxy", Config{TrustProxy: true}, -1},
		{"proxy, set", Config{TrustProxy: true, ConnsPerIP: 5000}, 5000},
		{"off", Config{ConnsPerIP: -1}, -1},
	} {
		if got := tt.in.withDefaults().ConnsPerIP; got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}
