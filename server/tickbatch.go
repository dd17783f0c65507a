package server

import (
	"sync"

	"github.com/tickroom/tickroom/rooms"
)

// tickBatcher is the rooms.Batcher of a server with Config.IOUring: a
// room's tick goes to its members' socks in one io_uring submission
// (ringPool.sendEach) instead of a write(2) each.
type tickBatcher struct {
	pool    *ringPool
	scratch sync.Pool // *[]*sock
}

func newTickBatcher(pool *ringPool) *tickBatcher {
	return &tickBatcher{pool: pool, scratch: sync.Pool{New: func() any { return new([]*sock) }}}
}

// SendEach implements rooms.Batcher.
func (t *tickBatcher) SendEach(msg []byte, conns []rooms.Conn, sent []bool) {
	sp := t.scratch.Get().(*[]*sock)
	socks := (*sp)[:0]
	for i, c := range conns {
		wc, ok := c.(*wsConn)
		switch {
		case !ok:
			sent[i] = c.Send(msg)
			socks = append(socks, nil)
		case wc.closed.Load():
			sent[i] = false
			socks = append(socks, nil)
		default:
			socks = append(socks, wc.sock)
		}
	}
	t.pool.sendEach(msg, socks, sent)
	clear(socks)
	*sp = socks[:0]
	t.scratch.Put(sp)
}

// Batch implements rooms.BatchConn.
func (c *wsConn) Batch() rooms.Batcher {
	if c.batch == nil {
		return nil // a nil *tickBatcher would be a non-nil rooms.Batcher
	}
	return c.batch
}
