package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// servedEnv is newEnv served the way cmd/tickroom serves: srv.HTTPServer()
// on srv.Listener(), so that the connection limits apply.
func servedEnv(t *testing.T, sc server.Config) *testEnv {
	t.Helper()
	env := newEnv(t, rooms.Config{}, sc)
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = env.srv.HTTPServer()
	ts.Listener = env.srv.Listener(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	env.ts = ts // newEnv's own httptest server idles until its cleanup closes it
	return env
}

// dialerFrom dials from a local address: on Linux all of 127/8 is the
// loopback interface, so 127.0.0.2 is a second client address.
func dialerFrom(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
}

// rawConn is a TCP connection to the test server, from ip.
func rawConn(t *testing.T, env *testEnv, ip string) net.Conn {
	t.Helper()
	c, err := dialerFrom(ip).Dial("tcp", env.ts.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends GET path on c, keeping the connection alive, and reads the
// answer. It returns an error when no answer came (the connection was
// closed or reset); a client-side timeout fails the test, since it means the
// server neither answered nor closed.
func get(t *testing.T, c net.Conn, br *bufio.Reader, path string) (*http.Response, error) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: tickroom\r\n\r\n", path); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(br, nil)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("GET %s: no answer and no close within 10 s", path)
	}
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, err
}

// getOnNewConn dials from ip and sends GET path; a connection refused
// while it was being set up is an error like one closed before answering.
func getOnNewConn(t *testing.T, env *testEnv, ip, path string) (*http.Response, error) {
	t.Helper()
	c, err := dialerFrom(ip).Dial("tcp", env.ts.Listener.Addr().String())
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dial from %s: %v", ip, err)
		}
		return nil, err
	}
	defer c.Close()
	return get(t, c, bufio.NewReader(c), path)
}

// waitClosed reads c until the server closes it; the read must end with
// EOF or a reset, not the 10 s bound.
func waitClosed(t *testing.T, c net.Conn, br io.Reader, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, br)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server did not close the connection within 10 s", what)
	}
}

// wsFrom joins a room over a WebSocket dialed from ip.
func wsFrom(t *testing.T, env *testEnv, ip, roomID, name string) *wsClient {
	t.Helper()
	d := websocket.Dialer{NetDialContext: dialerFrom(ip).DialContext, HandshakeTimeout: 5 * time.Second}
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/ws/" + roomID + "?name=" + name
	conn, _, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("WebSocket from %s: %v", ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, msgs: make(chan []byte, 4096), closed: make(chan struct{})}
	go c.read()
	c.waitSynced()
	return c
}

func TestConnectionsPerAddressAreCapped(t *testing.T) {
	env := servedEnv(t, server.Config{ConnsPerIP: 4})
	id := env.createRoom("arena", nil)

	// From 127.0.0.2: two idle keep-alive HTTP connections and two
	// WebSocket sessions fill the cap of 4: both kinds count.
	for range 2 {
		keep := rawConn(t, env, "127.0.0.2")
		if res, err := get(t, keep, bufio.NewReader(keep), "/healthz"); err != nil || res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("keep-alive connection: %v %v, want 200, kept alive", res, err)
		}
	}
	wsFrom(t, env, "127.0.0.2", id, "a")
	ws := wsFrom(t, env, "127.0.0.2", id, "b")

	// Two more are refused: closed before any answer.
	for i := range 2 {
		if res, err := getOnNewConn(t, env, "127.0.0.2", "/healthz"); err == nil {
			t.Fatalf("connection %d over the cap was answered %d, want it closed", 5+i, res.StatusCode)
		}
	}
	if got := scrape(t, env, `tickroom_connections_refused_total{reason="conns_per_ip"}`); got != 2 {
		t.Fatalf("refusals counted: got %v, want 2", got)
	}

	// Another address is not affected: it joins and receives ticks.
	c := env.join(id, "other")
	c.waitTick(c.mirror.Tick + 5)

	// Closing one connection frees its slot (once the server has seen it go).
	ws.conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := getOnNewConn(t, env, "127.0.0.2", "/healthz")
		if err == nil && res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not freed within 10 s: %v", err)
		}
		<-time.After(20 * time.Millisecond) // poll again
	}
}

func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	env := servedEnv(t, server.Config{IdleTimeout: 100 * time.Millisecond})
	c := rawConn(t, env, "127.0.0.1")
	br := bufio.NewReader(c)
	res, err := get(t, c, br, "/healthz")
	if err != nil || res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("GET /healthz: %v %v, want 200 on a kept-alive connection", res, err)
	}
	waitClosed(t, c, br, "idle keep-alive connection")
	if got := scrape(t, env, `tickroom_http_timeouts_total{phase="idle"}`); got != 1 {
		t.Fatalf("idle timeouts counted: got %v, want 1", got)
	}
}

func TestSlowHeadersAndBodiesAreCutOff(t *testing.T) {
	env := servedEnv(t, server.Config{HeaderTimeout: 100 * time.Millisecond, BodyTimeout: 100 * time.Millisecond})
	// Slowloris: requests that never finish their headers.
	var slow []net.Conn
	for range 4 {
		c := rawConn(t, env, "127.0.0.1")
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: tickroom\r\nX-Slow: "); err != nil {
			t.Fatalf("write: %v", err)
		}
		slow = append(slow, c)
	}
	// A body that never arrives in full.
	body := rawConn(t, env, "127.0.0.1")
	if _, err := io.WriteString(body, "POST /api/rooms HTTP/1.1\r\nHost: tickroom\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":"); err != nil {
		t.Fatalf("write: %v", err)
	}
	// Meanwhile the server serves everyone else.
	if code := env.api("GET", "/api/types", nil, nil); code != http.StatusOK {
		t.Fatalf("GET /api/types while slow clients wait: %d", code)
	}
	for i, c := range slow {
		waitClosed(t, c, c, fmt.Sprintf("slow headers %d", i))
	}
	waitClosed(t, body, body, "slow body")
	if got := scrape(t, env, `tickroom_http_timeouts_total{phase="headers"}`); got != 4 {
		t.Fatalf("header timeouts counted: got %v, want 4", got)
	}
	if got := scrape(t, env, `tickroom_http_timeouts_total{phase="body"}`); got != 1 {
		t.Fatalf("body timeouts counted: got %v, want 1", got)
	}
	if got := len(env.mgr.All()); got != 0 {
		t.Fatalf("rooms after a body that never arrived: got %d, want 0", got)
	}
}

func TestOversizedHeaderAndBodyAreRefused(t *testing.T) {
	env := servedEnv(t, server.Config{MaxHeaderBytes: 1024, AdminToken: "secret"})
	// net/http allows 4 KiB over MaxHeaderBytes.
	req, _ := http.NewRequest("GET", env.ts.URL+"/api/types", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 1024+4096))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET with a big header: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big header: got %d, want 431", res.StatusCode)
	}
	big := `{"type":"arena","options":{"pad":"` + strings.Repeat("x", 64<<10) + `"}}`
	for _, path := range []string{"/api/rooms", "/api/admin/rooms/x/kick"} {
		req, _ := http.NewRequest("POST", env.ts.URL+path, strings.NewReader(big))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer secret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Run(path, func(t *testing.T) { wantAPIError(t, res, b, http.StatusRequestEntityTooLarge, "too_large") })
	}
	// And a header under the limit is served.
	req.Header.Set("X-Big", strings.Repeat("x", 512))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET with a header under the limit: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET with a header under the limit: got %d, want 200", res.StatusCode)
	}
}

// TestWebSocketOutlivesHTTPTimeouts: every HTTP timeout far shorter than
// the session, which still receives ticks and is heard long after them.
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	const short = 30 * time.Millisecond
	env := servedEnv(t, server.Config{HeaderTimeout: short, BodyTimeout: short, IdleTimeout: short})
	id := env.createRoom("arena", nil)
	c := env.join(id, "a")
	start := c.mirror.Tick
	c.waitTick(start + 20) // a second at 20 Hz: many times every timeout
	c.send([]any{state.ClientChat, "still here"})
	c.waitFor("own chat message", func() bool { return len(c.eventsOf("chat")) == 1 })
	for _, phase := range []string{"headers", "body"} {
		if got := scrape(t, env, fmt.Sprintf(`tickroom_http_timeouts_total{phase=%q}`, phase)); got != 0 {
			t.Errorf("%s timeouts: got %v, want 0", phase, got)
		}
	}
}
