package natstest

import (
	"net"
	"testing"
)

// A port found free can be taken before the server listens on it (another
// test package binds it): Start must pick fresh ports and try again, not
// wait out its timeout and fail (CI failed so: "server 2 not ready").
func TestStartRetriesWhenAPortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	calls := 0
	pickPorts = func(t testing.TB, n int) []int {
		calls++
		ports := freePorts(t, n)
		if calls == 1 {
			ports[n/2-1] = taken.Addr().(*net.TCPAddr).Port // the last server's client port
		}
		return ports
	}
	defer func() { pickPorts = freePorts }()

	c := Start(t, 3)
	if calls != 2 {
		t.Fatalf("Start picked ports %d times, want 2 (once taken, once free)", calls)
	}
	if got := c.servers[2].ClientURL(); got == "nats://"+taken.Addr().String() {
		t.Fatalf("server 2 listens on the taken port %s", got)
	}
}
