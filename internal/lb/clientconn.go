package lb

import (
	"context"
	"net"
	"sync/atomic"
)

// clientListener wraps the listener's accepted connections in clientConn.
type clientListener struct{ net.Listener }

func (l clientListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &clientConn{Conn: c}, nil
}

type clientConnKey struct{}

// connContext is the listener's http.Server.ConnContext: requests find
// their clientConn in the context.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*clientConn); ok {
		return context.WithValue(ctx, clientConnKey{}, cc)
	}
	return ctx
}

// clientConn is a client connection of a Listener. It notices the client
// going away where net/http does, at a failed read (net/http reads in the
// background while a handler runs, and cancels the request's context on
// error), and then closes the backend connection of the request in
// flight, if any: what context.AfterFunc on the request's context would
// do, without registering with the context on every request.
type clientConn struct {
	net.Conn
	req  atomic.Pointer[backendConn] // backend connection of the request in flight
	gone atomic.Bool                 // a read failed: the client is gone
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		// A timeout is net/http aborting its background read at the end of
		// each request (as net/http itself, look at the error's own type).
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			c.gone.Store(true)
			if bc := c.req.Swap(nil); bc != nil {
				bc.onClientGone()
			}
		}
	}
	return n, err
}

// CloseWrite lets net/http half-close the connection as it does a
// *net.TCPConn.
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// clientWatch closes a request's backend connection if its client goes
// away: through the clientConn when the request came from a Listener, else
// with context.AfterFunc.
type clientWatch struct {
	ctx  context.Context
	cc   *clientConn
	bc   *backendConn
	stop func() bool
}

func newClientWatch(ctx context.Context) clientWatch {
	cc, _ := ctx.Value(clientConnKey{}).(*clientConn)
	return clientWatch{ctx: ctx, cc: cc}
}

// start watches bc.
func (w *clientWatch) start(bc *backendConn) {
	w.bc = bc
	if w.cc == nil {
		w.stop = context.AfterFunc(w.ctx, bc.clientGone)
		return
	}
	w.cc.req.Store(bc)
	if w.cc.gone.Load() { // the client went before: its read saw no request
		if b := w.cc.req.Swap(nil); b != nil {
			b.onClientGone()
		}
	}
}

// end stops watching; false if the client went away and the connection was
// (or is being) closed.
func (w *clientWatch) end() bool {
	if w.cc == nil {
		return w.stop()
	}
	return w.cc.req.CompareAndSwap(w.bc, nil)
}
