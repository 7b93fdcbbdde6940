package lb

import (
	"bufio"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestFastHeadMatchesReadResponse: what fastHead accepts it parses as
// http.ReadResponse does; the rest it leaves untouched.
func TestFastHeadMatchesReadResponse(t *testing.T) {
	for _, tt := range []struct {
		head   string
		method string
		fast   bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 3\r\n\r\nabc", "GET", true},
		{"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-lower: a\r\nX-UPPER: b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nabc", "GET", true},
		{"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", "POST", true},
		{"HTTP/1.1 200 OK\r\nContent-Length:   5  \r\nX-Empty:\r\nX-Tab:\tv  w\t\r\n\r\nhello", "GET", true},
		{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 007\r\nX-Weird_Key.1~: ~v~\r\n\r\nabcdefg", "GET", true},
		{"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabcEXTRA", "PUT", true},
		// Left to http.ReadResponse.
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "HEAD", false},
		{"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nkeep-alive: timeout=5\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTrailer: X-Sum\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "GET", false},
		{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", false},
		{"HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\n\r\n", "GET", false},
		{"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Fold: a\r\n b\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\nX-Bare-LF: a\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\nContent-Length: 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nBad Key: v\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nBad-Key : v\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Ctl: a\x01b\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Utf8: caf\xc3\xa9\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n: v\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nNo-Colon\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", "GET", false},
		{"HTTP/1.1 2x0 OK\r\nContent-Length: 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200OK\r\nContent-Length: 3\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\nX: y\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\n\r\nabc", "GET", false},
		{"HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Many: v\r\n", maxFastHeaders) + "Content-Length: 3\r\n\r\nabc", "GET", false},
	} {
		bc := &backendConn{br: bufio.NewReader(strings.NewReader(tt.head))}
		bc.br.Peek(1)
		h := http.Header{}
		code, length, ok := bc.fastHead(h, tt.method)
		if ok != tt.fast {
			t.Errorf("%q: fast %v, want %v", tt.head, ok, tt.fast)
			continue
		}
		req, _ := http.NewRequest(tt.method, "http://x/", nil)
		res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.head)), req)
		if !ok {
			if len(h) != 0 || bc.br.Buffered() != len(tt.head) {
				t.Errorf("%q: left to ReadResponse but header %v, %d of %d bytes left", tt.head, h, bc.br.Buffered(), len(tt.head))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: fast path accepted what ReadResponse rejects: %v", tt.head, err)
			continue
		}
		if code != res.StatusCode || length != res.ContentLength || res.Close || !reflect.DeepEqual(h, res.Header) {
			t.Errorf("%q: fast %d %d %v, ReadResponse %d %d close %v %v", tt.head, code, length, h, res.StatusCode, res.ContentLength, res.Close, res.Header)
		}
		fast, _ := io.ReadAll(&fixedBody{bc.br, length})
		slow, _ := io.ReadAll(res.Body)
		if string(fast) != string(slow) {
			t.Errorf("%q: body %q, ReadResponse %q", tt.head, fast, slow)
		}
	}
}
