package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// HTTPServer returns the http.Server that serves s with the connection
// limits of its Config: header, idle and body timeouts and the header size
// limit. Serve it on s.Listener(ln), which adds the per-address cap.
//
// There is no http.Server ReadTimeout or WriteTimeout: a ReadTimeout
// deadline stays on the connection while the handler runs and, once it
// passes, net/http cancels the request's context (a long tape download, a
// 30 s CPU profile); a WriteTimeout would cut long downloads. Bodies get
// their own deadline instead (bodyDeadline). A WebSocket session is not
// touched by any of these: net/http clears the connection's deadlines when
// the upgrade hijacks it, and from then on melody's pong deadline and the
// write path's write deadline are the session's timeouts
// (TestWebSocketOutlivesHTTPTimeouts).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ConnState:         connState,
	}
}

// connState tells a connection from Listener which HTTP state it is in, for
// the timeout metrics.
func connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*trackedConn); ok {
		tc.setState(st)
	}
}

// bodyDeadline gives a request's body BodyTimeout to arrive. A request
// without a body (every GET, the WebSocket upgrade among them) is left
// alone. The deadline is lifted at the body's end, so that it cannot cut
// the rest of a slow handler (see HTTPServer); a body that is not read to
// its end keeps it until net/http is done with the connection.
func (s *Server) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if s.cfg.BodyTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)) != nil {
		return // a writer without deadlines (a test recorder): nothing to bound
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, m: s.metrics}
}

type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	m    *metrics
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case b.done || err == nil:
	case err == io.EOF:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{}) // it worked when it was set: the connection is the same
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.done = true
		b.m.httpTimeouts.WithLabelValues("body").Inc()
	}
	return n, err
}
