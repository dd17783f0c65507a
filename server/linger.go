package server

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// lingerTime is how long a closed WebSocket keeps reading before the socket
// really closes.
const lingerTime = time.Second

// lingerWriter hands gorilla a connection whose Close lingers (see
// lingerConn), through the Hijack that the WebSocket upgrade uses.
type lingerWriter struct {
	http.ResponseWriter
}

func (w lingerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &lingerConn{Conn: conn}, rw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w lingerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// lingerConn closes gracefully. melody closes the socket right after
// writing a close frame; if the client is still sending (a flood being
// closed with 1008, say), unread bytes make the kernel answer with a reset,
// and the client's kernel throws away the close frame and the errors before
// it. So Close shuts only the write side (the client gets the close frame
// and then end-of-stream), lets reading go on for lingerTime, during which
// the read loop drains what the client sent and sees its close reply, and
// only then closes the socket. Guarded by TestFloodCloseCodeReachesTheClient.
type lingerConn struct {
	net.Conn
	once sync.Once
}

func (c *lingerConn) Close() error {
	c.once.Do(func() {
		hc, ok := c.Conn.(interface{ CloseWrite() error })
		if !ok || hc.CloseWrite() != nil {
			_ = c.Conn.Close() // no half-close here: plain close is all there is
			return
		}
		_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) // a dead peer cannot hold the read loop
		time.AfterFunc(lingerTime, func() { _ = c.Conn.Close() })
	})
	return nil
}
