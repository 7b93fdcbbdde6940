package lb

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Backend connection settings of the forwarder (see [Router]).
const (
	connectTimeout         = 10 * time.Second // ALB's connect timeout
	maxIdleConnsPerTarget  = 128
	idleConnTimeout        = 90 * time.Second
	maxResponseHeaderBytes = 1 << 20
	connBufferSize         = 4 << 10
)

var dialer = &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}

// errTargetAborted is why a request to a target is cut when its
// deregistration delay expires.
var errTargetAborted = errors.New("deregistration delay expired: request to the draining target cut")

// Why a connection carrying a request was closed under it.
const (
	cutNone int32 = iota
	cutDrain
	cutClient
)

// connPool is a target's keep-alive connections: idle ones (at most
// maxIdleConnsPerTarget, closed after idleConnTimeout unused) and those
// carrying a request (busy), so that drain expiry can cut them. The zero
// value needs addr set.
type connPool struct {
	addr string

	mu      sync.Mutex
	idle    []*backendConn // least recently used first
	busy    *backendConn   // head of the list of connections carrying a request
	closed  bool           // the target left: connections are not kept
	aborted bool           // and requests still on it were cut
	janitor *time.Timer    // closes idle connections past idleConnTimeout
	armed   bool           // janitor is scheduled
}

// backendConn is one HTTP/1.1 connection to a target, used by one request
// at a time.
type backendConn struct {
	pool      *connPool
	nc        net.Conn
	br        *bufio.Reader // reads through the backendConn (readLimit)
	bw        *bufio.Writer
	readLimit int64 // bytes the next reads may return (bounds response headers)
	body      fixedBody
	reused    bool // it served a request before
	idleSince time.Time
	prev      *backendConn // busy list
	next      *backendConn
	cut       atomic.Int32 // cutDrain or cutClient once closed under a request

	clientGone func() // bc.onClientGone, allocated once per connection
	rc         syscall.RawConn
	peekFn     func(fd uintptr) bool
	peekAlive  bool
	peekBuf    [1]byte
}

func newBackendConn(p *connPool, nc net.Conn) *backendConn {
	bc := &backendConn{pool: p, nc: nc, readLimit: math.MaxInt64}
	bc.br = bufio.NewReaderSize(bc, connBufferSize)
	bc.bw = bufio.NewWriterSize(nc, connBufferSize)
	bc.clientGone = bc.onClientGone
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			bc.rc = rc
			bc.peekFn = bc.peek
		}
	}
	return bc
}

// Read implements io.Reader for br, bounding what a response head may take.
func (bc *backendConn) Read(p []byte) (int, error) {
	if bc.readLimit <= 0 {
		return 0, errors.New("target response headers exceed 1 MiB")
	}
	if int64(len(p)) > bc.readLimit {
		p = p[:bc.readLimit]
	}
	n, err := bc.nc.Read(p)
	bc.readLimit -= int64(n)
	return n, err
}

// onClientGone runs (context.AfterFunc) when the client's request is
// cancelled while the connection carries it.
func (bc *backendConn) onClientGone() {
	bc.cut.CompareAndSwap(cutNone, cutClient)
	bc.nc.Close()
}

// alive reports whether an idle connection still looks usable: the target
// has not closed it and sent nothing unasked. One non-blocking peek; used
// before a request that could not be retried on a new connection.
func (bc *backendConn) alive() bool {
	if bc.br.Buffered() > 0 {
		return false // the target sent something nobody asked for
	}
	if bc.rc == nil {
		return true
	}
	bc.peekAlive = false
	if err := bc.rc.Read(bc.peekFn); err != nil {
		return false
	}
	return bc.peekAlive
}

// get returns a connection marked busy: the most recently used idle one
// (unless fresh; dead ones skipped when check), else a new one.
func (p *connPool) get(ctx context.Context, fresh, check bool) (*backendConn, error) {
	for !fresh {
		p.mu.Lock()
		if p.aborted {
			p.mu.Unlock()
			return nil, errTargetAborted
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		bc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.linkBusy(bc)
		p.mu.Unlock()
		if !check || bc.alive() {
			return bc, nil
		}
		p.discard(bc)
	}
	nc, err := dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	bc := newBackendConn(p, nc)
	p.mu.Lock()
	if p.aborted {
		p.mu.Unlock()
		nc.Close()
		return nil, errTargetAborted
	}
	p.linkBusy(bc)
	p.mu.Unlock()
	return bc, nil
}

// put returns a connection whose exchange completed cleanly to the idle
// pool, or closes it if the pool is full or closed.
func (p *connPool) put(bc *backendConn) {
	bc.reused = true
	bc.idleSince = time.Now()
	p.mu.Lock()
	p.unlinkBusy(bc)
	if p.closed || len(p.idle) >= maxIdleConnsPerTarget {
		p.mu.Unlock()
		bc.nc.Close()
		return
	}
	p.idle = append(p.idle, bc)
	if !p.armed {
		p.armed = true
		if p.janitor == nil {
			p.janitor = time.AfterFunc(idleConnTimeout, p.sweep)
		} else {
			p.janitor.Reset(idleConnTimeout)
		}
	}
	p.mu.Unlock()
}

// discard closes a connection that carried a request.
func (p *connPool) discard(bc *backendConn) {
	p.mu.Lock()
	p.unlinkBusy(bc)
	p.mu.Unlock()
	bc.nc.Close()
}

// sweep closes the connections idle for idleConnTimeout and reschedules
// itself for the next one.
func (p *connPool) sweep() {
	now := time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	k := 0
	for k < len(p.idle) && now.Sub(p.idle[k].idleSince) >= idleConnTimeout {
		k++
	}
	expired := make([]*backendConn, k)
	copy(expired, p.idle[:k])
	n := copy(p.idle, p.idle[k:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	if n > 0 {
		p.janitor.Reset(p.idle[0].idleSince.Add(idleConnTimeout).Sub(now))
	} else {
		p.armed = false
	}
	p.mu.Unlock()
	for _, bc := range expired {
		bc.nc.Close()
	}
}

// shutdown closes the idle connections and keeps no more; with abort it
// also cuts the connections carrying requests (drain expiry), and new
// requests fail.
func (p *connPool) shutdown(abort bool) {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	var cut []*backendConn
	if abort {
		p.aborted = true
		for bc := p.busy; bc != nil; bc = bc.next {
			cut = append(cut, bc)
		}
	}
	if p.janitor != nil {
		p.janitor.Stop()
	}
	p.mu.Unlock()
	for _, bc := range idle {
		bc.nc.Close()
	}
	for _, bc := range cut {
		bc.cut.CompareAndSwap(cutNone, cutDrain)
		bc.nc.Close()
	}
}

// idleConns returns the number of idle connections (tests).
func (p *connPool) idleConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func (p *connPool) linkBusy(bc *backendConn) {
	bc.prev = nil
	bc.next = p.busy
	if p.busy != nil {
		p.busy.prev = bc
	}
	p.busy = bc
}

func (p *connPool) unlinkBusy(bc *backendConn) {
	if bc.prev != nil {
		bc.prev.next = bc.next
	} else if p.busy == bc {
		p.busy = bc.next
	} else {
		return // not linked
	}
	if bc.next != nil {
		bc.next.prev = bc.prev
	}
	bc.prev, bc.next = nil, nil
}

var _ io.Reader = (*backendConn)(nil)
