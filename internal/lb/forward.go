package lb

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// max1xxResponses bounds the informational responses read before the
// final one (as net/http's Transport does).
const max1xxResponses = 5

// forwardDirect is the forwarder: the request is written to a keep-alive
// connection of the target's pool and the response read back on the
// handler's goroutine (no http.Transport, no ReverseProxy).
//
//   - Outbound: HTTP/1.1, the client's request target and Host header,
//     hop-by-hop headers removed (Connection and those it names,
//     Keep-Alive, Proxy-*, TE but "TE: trailers", Trailer,
//     Transfer-Encoding, Upgrade) and Expect (the listener answers
//     100-continue itself); X-Forwarded-For (appended to the client's),
//     -Proto and -Port set, Forwarded and X-Forwarded-Host dropped, as
//     httputil.ReverseProxy's Rewrite mode did. Bodies are streamed with
//     their Content-Length, or chunked (with trailers) when unknown.
//   - Inbound: the head parsed in place by fastHead when it is the common
//     kind, else by http.ReadResponse; status and headers copied
//     (hop-by-hop removed), body
//     streamed with a pooled buffer, flushed after every read when it has
//     no Content-Length or is text/event-stream; trailers copied.
//     Informational responses other than 100 are passed on.
//   - A request that fails on a reused connection before any byte of
//     response arrived is sent again once on a new connection if it has no
//     body and is idempotent (GET, HEAD, OPTIONS, TRACE, or an
//     Idempotency-Key header), as net/http does; before any other request
//     an idle connection is checked with a non-blocking peek, so one the
//     target already closed is not used.
//   - The client going away closes the connection (see clientConn;
//     context.AfterFunc on the request's context when the Router is not
//     served by a Listener), so the target sees the request cancelled;
//     drain expiry closes the target's connections carrying requests.
//   - Errors before the response: 502 (logged like ReverseProxy's error
//     handler did). During the body: the client connection is aborted
//     (http.ErrAbortHandler), so the client sees a truncated response.
func (rt *Router) forwardDirect(w http.ResponseWriter, r *http.Request, t *Target) {
	p := &t.pool
	ctx := r.Context()
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	replayable := !hasBody && isReplayable(r)
	var (
		bc  *backendConn
		res response
		err error
	)
	watch := newClientWatch(ctx)
	h := w.Header()
	for attempt := 0; ; attempt++ {
		bc, err = p.get(ctx, attempt > 0, !replayable)
		if err != nil {
			rt.targetFailed(w, r, t, nil, err)
			return
		}
		watch.start(bc)
		var responded bool
		res, responded, err = rt.roundTrip(w, r, t, bc, hasBody)
		if err == nil {
			break
		}
		stopped := watch.end()
		p.discard(bc)
		var bad *badRequestError
		if attempt == 0 && replayable && bc.reused && !responded && stopped && bc.cut.Load() == cutNone && !errors.As(err, &bad) {
			continue // the target closed the idle connection: once more on a new one
		}
		clear(h)
		rt.targetFailed(w, r, t, bc, err)
		return
	}

	var announced int
	if res.slow != nil {
		copyResponseHeader(h, res.slow.Header)
		announced = len(res.slow.Trailer)
		if announced > 0 {
			keys := make([]string, 0, announced)
			for k := range res.slow.Trailer {
				keys = append(keys, k)
			}
			h["Trailer"] = []string{strings.Join(keys, ", ")}
		}
	}
	w.WriteHeader(res.code)
	if res.body != http.NoBody {
		flush := res.length == -1 || isEventStream(h)
		if flush && bc.br.Buffered() == 0 {
			// No body yet: the client gets the head now, as from
			// ReverseProxy.
			http.NewResponseController(w).Flush()
		}
		if err := copyBody(w, res.body, flush); err != nil {
			watch.end()
			p.discard(bc)
			var re readError
			if errors.As(err, &re) {
				rt.log.Debug("target response body copy failed", "target", t.addr, "path", r.URL.Path, "err", re.err)
			}
			if ctx.Value(http.ServerContextKey) != nil {
				panic(http.ErrAbortHandler) // the server aborts the client connection
			}
			return
		}
	}
	if watch.end() && !res.close && bc.br.Buffered() == 0 {
		p.put(bc)
	} else {
		p.discard(bc)
	}
	if res.slow == nil {
		return
	}
	if trailer := res.slow.Trailer; len(trailer) > 0 {
		// Force chunking so that the trailers can follow the body.
		http.NewResponseController(w).Flush()
		if len(trailer) == announced {
			for k, vv := range trailer {
				h[k] = vv
			}
		} else {
			for k, vv := range trailer {
				h[http.TrailerPrefix+k] = vv
			}
		}
	}
}

// response is a target's response head and how to read its body.
type response struct {
	code   int
	length int64     // Content-Length, -1 unknown
	body   io.Reader // http.NoBody when there is none
	close  bool      // the connection cannot carry another request
	// slow is http.ReadResponse's result, for heads fastHead leaves to it;
	// nil when the head went straight into the client's header.
	slow *http.Response
}

// roundTrip writes the request on bc and reads the response head;
// responded says whether any byte of response arrived.
func (rt *Router) roundTrip(w http.ResponseWriter, r *http.Request, t *Target, bc *backendConn, hasBody bool) (res response, responded bool, err error) {
	chunked := hasBody && r.ContentLength < 0
	if err := rt.writeRequestHead(bc, r, t, hasBody, chunked); err != nil {
		return res, false, &badRequestError{err}
	}
	if hasBody {
		err = writeRequestBody(bc, r, chunked)
	}
	if err == nil {
		err = bc.bw.Flush()
	}
	if err != nil {
		return res, false, err
	}
	bc.readLimit = maxResponseHeaderBytes
	if _, err := bc.br.Peek(1); err != nil {
		return res, false, err
	}
	if code, length, ok := bc.fastHead(w.Header(), r.Method); ok {
		bc.readLimit = maxInt64
		res = response{code: code, length: length, body: http.NoBody}
		if length > 0 {
			bc.body = fixedBody{bc.br, length}
			res.body = &bc.body
		}
		return res, true, nil
	}
	var hr *http.Response
	for n := 0; ; n++ {
		hr, err = http.ReadResponse(bc.br, r)
		if err != nil {
			return res, true, err
		}
		if hr.StatusCode >= 200 {
			break
		}
		if hr.StatusCode == http.StatusSwitchingProtocols {
			return res, true, errors.New("target switched protocols without an upgrade request")
		}
		if n == max1xxResponses {
			return res, true, errors.New("too many 1xx informational responses")
		}
		if hr.StatusCode != http.StatusContinue {
			h := w.Header()
			copyResponseHeader(h, hr.Header)
			w.WriteHeader(hr.StatusCode)
			clear(h)
		}
	}
	bc.readLimit = maxInt64
	return response{code: hr.StatusCode, length: hr.ContentLength, body: hr.Body, close: hr.Close, slow: hr}, true, nil
}

const maxInt64 = 1<<63 - 1

// targetFailed answers 502 and logs why, as the ReverseProxy error handler
// did: at debug level when the client went away, else a warning.
func (rt *Router) targetFailed(w http.ResponseWriter, r *http.Request, t *Target, bc *backendConn, err error) {
	drain := t.aborted.Err() != nil || errors.Is(err, errTargetAborted)
	if bc != nil && bc.cut.Load() == cutDrain {
		drain = true
		err = errTargetAborted
	}
	if r.Context().Err() != nil && !drain {
		// The client went away; nobody is listening for the answer.
		rt.log.Debug("client cancelled request", "target", t.addr, "path", r.URL.Path)
	} else {
		rt.log.Warn("target request failed", "target", t.addr, "path", r.URL.Path, "err", err)
	}
	http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
}

// isReplayable reports whether a bodyless request may be sent again after
// failing on a reused connection (net/http's rule).
func isReplayable(r *http.Request) bool {
	switch r.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "":
		return true
	}
	_, key := r.Header["Idempotency-Key"]
	_, xkey := r.Header["X-Idempotency-Key"]
	return key || xkey
}

// writeRequestHead writes the request line and headers to bc.bw.
func (rt *Router) writeRequestHead(bc *backendConn, r *http.Request, t *Target, hasBody, chunked bool) error {
	bw := bc.bw
	host := r.Host
	if host == "" {
		host = t.addr
	}
	method := r.Method
	if method == "" {
		method = "GET"
	}
	uri := requestURI(r)
	if !validHeaderValue(host) || !validHeaderValue(uri) || strings.IndexByte(uri, ' ') >= 0 {
		return errors.New("invalid request target or Host")
	}
	bw.WriteString(method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	conn := r.Header["Connection"]
	for k, vv := range r.Header {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
			"Te", "Trailer", "Transfer-Encoding", "Upgrade", // hop-by-hop
			"Host", "Content-Length", "Expect", // written by the forwarder, or answered by the listener
			"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port":
			continue
		}
		if len(conn) > 0 && listedIn(conn, k) {
			continue
		}
		if !validHeaderKey(k) {
			return errors.New("invalid header field name " + strconv.Quote(k))
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return errors.New("invalid header field value for " + k)
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if te := r.Header["Te"]; len(te) > 0 && listedIn(te, "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}
	bw.WriteString("X-Forwarded-For: ")
	for _, v := range r.Header["X-Forwarded-For"] {
		if !validHeaderValue(v) {
			return errors.New("invalid header field value for X-Forwarded-For")
		}
		bw.WriteString(v)
		bw.WriteString(", ")
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	bw.WriteString(client)
	bw.WriteString("\r\nX-Forwarded-Proto: ")
	bw.WriteString(rt.proto)
	bw.WriteString("\r\nX-Forwarded-Port: ")
	bw.WriteString(rt.listenerPort(r))
	bw.WriteString("\r\n")
	switch {
	case chunked:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			bw.WriteString("Trailer: ")
			i := 0
			for k := range r.Trailer {
				if i > 0 {
					bw.WriteString(", ")
				}
				bw.WriteString(k)
				i++
			}
			bw.WriteString("\r\n")
		}
	case hasBody:
		bw.WriteString("Content-Length: ")
		var b [20]byte
		bw.Write(strconv.AppendInt(b[:0], r.ContentLength, 10))
		bw.WriteString("\r\n")
	case method != "GET" && method != "HEAD":
		// As net/http: a bodyless POST, PUT, DELETE... says so.
		bw.WriteString("Content-Length: 0\r\n")
	}
	_, err = bw.WriteString("\r\n")
	return err
}

// requestURI is the request target to send: the client's as received, its
// query cleaned as httputil.ReverseProxy does (a query with a semicolon or
// a malformed escape is parsed and re-encoded); absolute-form targets are
// sent in origin-form.
func requestURI(r *http.Request) string {
	u := r.RequestURI
	if u == "*" {
		return u
	}
	if u == "" || u[0] != '/' {
		u = r.URL.RequestURI()
	}
	if q := r.URL.RawQuery; q != "" && (strings.IndexByte(q, ';') >= 0 || strings.IndexByte(q, '%') >= 0) {
		if clean := cleanQueryParams(q); clean != q {
			path, _, _ := strings.Cut(u, "?")
			if clean == "" {
				return path
			}
			return path + "?" + clean
		}
	}
	return u
}

// cleanQueryParams is httputil's: a query that url.ParseQuery would not
// accept whole is re-encoded from what it does accept.
func cleanQueryParams(s string) string {
	reencode := func(s string) string {
		v, _ := url.ParseQuery(s)
		return v.Encode()
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return reencode(s)
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return reencode(s)
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// writeRequestBody streams the request body to bc.bw, flushing after each
// read so that a slow upload reaches the target as it arrives.
func writeRequestBody(bc *backendConn, r *http.Request, chunked bool) error {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	bw := bc.bw
	var written int64
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			if chunked {
				var b [18]byte
				bw.Write(strconv.AppendInt(b[:0], int64(n), 16))
				bw.WriteString("\r\n")
			}
			if _, err := bw.Write(buf[:n]); err != nil {
				return err
			}
			if chunked {
				bw.WriteString("\r\n")
			}
			written += int64(n)
			if rerr == nil {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return &clientBodyError{rerr}
		}
	}
	if !chunked {
		if written != r.ContentLength {
			return &clientBodyError{io.ErrUnexpectedEOF}
		}
		return nil
	}
	bw.WriteString("0\r\n")
	for k, vv := range r.Trailer {
		for _, v := range vv {
			if !validHeaderKey(k) || !validHeaderValue(v) {
				return errors.New("invalid request trailer " + strconv.Quote(k))
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// badRequestError is a request the forwarder cannot write (a header that
// would break the framing): not sent, not retried.
type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }

// clientBodyError is a failure reading the client's request body.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// readError is a failure reading the target's response body (a write error
// is the client's).
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

// copyBody streams the response body to the client with a pooled buffer,
// flushing after every write when flush is set.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) error {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if flush {
				if err := rc.Flush(); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return readError{rerr}
		}
	}
}

// copyResponseHeader copies the target's response headers but the
// hop-by-hop ones; the value slices are shared, src is not used again.
func copyResponseHeader(dst, src http.Header) {
	for k, vv := range src {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
			"Te", "Trailer", "Transfer-Encoding", "Upgrade":
			continue
		}
		dst[k] = vv
	}
	for _, f := range src["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = strings.TrimSpace(sf); sf != "" && !strings.EqualFold(sf, "close") && !strings.EqualFold(sf, "keep-alive") {
				dst.Del(sf)
			}
		}
	}
}

// listedIn reports whether a comma-separated header value lists name
// (case-insensitively).
func listedIn(values []string, name string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), name) {
				return true
			}
		}
	}
	return false
}

// isEventStream reports whether the response is text/event-stream
// (flushed as it comes, like ReverseProxy does).
func isEventStream(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	base, _, _ := strings.Cut(ct[0], ";")
	return strings.EqualFold(strings.TrimSpace(base), "text/event-stream")
}

// validHeaderValue rejects what would break the request framing.
func validHeaderValue(v string) bool {
	return strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, 0) < 0
}

func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c == ':' || c >= 0x7f {
			return false
		}
	}
	return true
}
