package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// dialer opens WebSockets to the target, spreading connections over
// several loopback source addresses (127.0.0.2, 127.0.0.3, ...) so that
// more than one address pair's worth of ephemeral ports (about 28,000 on a
// default Linux) is available. Every 127.0.0.0/8 address is local on Linux;
// nothing needs configuring.
type dialer struct {
	base    string // ws://host:port
	dialers []*websocket.Dialer
	next    atomic.Uint64
}

// newDialer makes a dialer with nsrc source addresses (0 or 1: let the
// kernel choose, i.e. 127.0.0.1) and the given client buffer sizes.
func newDialer(httpBase string, nsrc, readBuf, writeBuf int) (*dialer, error) {
	if nsrc > 250 {
		return nil, fmt.Errorf("dial: %d source addresses: at most 250", nsrc)
	}
	d := &dialer{base: "ws" + strings.TrimPrefix(httpBase, "http")}
	pool := &sync.Pool{}
	mk := func(local *net.TCPAddr) *websocket.Dialer {
		nd := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: local}
		return &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   readBuf,
			WriteBufferSize:  writeBuf,
			WriteBufferPool:  pool,
		}
	}
	if nsrc <= 1 {
		d.dialers = []*websocket.Dialer{mk(nil)}
		return d, nil
	}
	for i := range nsrc {
		d.dialers = append(d.dialers, mk(&net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}))
	}
	return d, nil
}

// dial opens /ws/{room}?query, using the source addresses in turn.
func (d *dialer) dial(ctx context.Context, room, query string) (*websocket.Conn, error) {
	wd := d.dialers[int(d.next.Add(1)-1)%len(d.dialers)]
	u := d.base + "/ws/" + room
	if query != "" {
		u += "?" + query
	}
	conn, res, err := wd.DialContext(ctx, u, nil)
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("dial %s: %w (status %d)", u, err, res.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	return conn, nil
}

// closeConn sends a normal close frame (the member leaves at once) and
// closes the socket.
func closeConn(conn *websocket.Conn) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load run over")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) // the socket may be gone already
	_ = conn.Close()                                                                // as above
}

// forEach runs fn(i) for i in [0, n) on at most par goroutines, stopping at
// the first error.
func forEach(ctx context.Context, n, par int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(par, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
