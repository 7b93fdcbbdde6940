package lb

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
)

// maxFastHeaders bounds the header fields fastHead takes; longer heads go
// to http.ReadResponse.
const maxFastHeaders = 32

// fastHead parses the most common response head straight into h (the
// client's response header) without http.ReadResponse: the whole head
// already buffered, HTTP/1.1, a final status other than 101, 204 and 304
// to a request other than HEAD, exactly one Content-Length of digits, no
// hop-by-hop or Trailer field, no obs-fold, keys of token characters,
// values of visible ASCII, spaces and tabs, every line ending in CRLF.
// Anything else returns ok false having consumed nothing and touched
// nothing, for http.ReadResponse (which accepts or rejects it as net/http
// does). The values share one string per head.
func (bc *backendConn) fastHead(h http.Header, method string) (code int, length int64, ok bool) {
	if method == "HEAD" {
		return 0, 0, false
	}
	buf, _ := bc.br.Peek(bc.br.Buffered())
	end := bytes.Index(buf, crlfcrlf)
	if end < 0 || len(buf) < 14 || string(buf[:9]) != "HTTP/1.1 " {
		return 0, 0, false
	}
	for _, c := range buf[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code == 204 || code == 304 || (buf[12] != ' ' && buf[12] != '\r') {
		return 0, 0, false
	}
	nl := bytes.IndexByte(buf, '\n')
	if nl > end || buf[nl-1] != '\r' {
		return 0, 0, false
	}
	fields := buf[nl+1 : end+2]     // header lines, each with its CRLF
	var kv [maxFastHeaders][4]int32 // key start, key end, value start, value end in fields
	n := 0
	length = -1
	for i := 0; i < len(fields); {
		j := bytes.IndexByte(fields[i:], '\n')
		if n == maxFastHeaders || j < 1 || fields[i+j-1] != '\r' {
			return 0, 0, false
		}
		line := fields[i : i+j-1]
		colon := bytes.IndexByte(line, ':')
		if colon < 1 {
			return 0, 0, false
		}
		for _, c := range line[:colon] {
			if !isTokenByte(c) {
				return 0, 0, false
			}
		}
		vs, ve := colon+1, len(line)
		for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
			ve--
		}
		for _, c := range line[vs:ve] {
			if (c < ' ' && c != '\t') || c > '~' {
				return 0, 0, false
			}
		}
		switch k := line[:colon]; {
		case asciiEqualFold(k, "Content-Length"):
			if length >= 0 || ve == vs || ve-vs > 18 {
				return 0, 0, false
			}
			length = 0
			for _, c := range line[vs:ve] {
				if c < '0' || c > '9' {
					return 0, 0, false
				}
				length = length*10 + int64(c-'0')
			}
		case asciiEqualFold(k, "Connection"), asciiEqualFold(k, "Proxy-Connection"), asciiEqualFold(k, "Keep-Alive"),
			asciiEqualFold(k, "Proxy-Authenticate"), asciiEqualFold(k, "Proxy-Authorization"), asciiEqualFold(k, "Te"),
			asciiEqualFold(k, "Trailer"), asciiEqualFold(k, "Transfer-Encoding"), asciiEqualFold(k, "Upgrade"):
			return 0, 0, false
		}
		kv[n] = [4]int32{int32(i), int32(i + colon), int32(i + vs), int32(i + ve)}
		n++
		i += j + 1
	}
	if length < 0 {
		return 0, 0, false
	}
	s := string(fields)
	vals := make([]string, n)
	for i, f := range kv[:n] {
		k := s[f[0]:f[1]]
		if !isCanonicalKey(k) {
			k = http.CanonicalHeaderKey(k)
		}
		vals[i] = s[f[2]:f[3]]
		if old, dup := h[k]; dup {
			h[k] = append(old, vals[i])
		} else {
			h[k] = vals[i : i+1 : i+1]
		}
	}
	bc.br.Discard(end + 4)
	return code, length, true
}

var crlfcrlf = []byte("\r\n\r\n")

// isTokenByte reports whether c may appear in a header field name (RFC
// 9110 tchar).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// isCanonicalKey reports whether a token is already in
// http.CanonicalHeaderKey's form.
func isCanonicalKey(k string) bool {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if c|0x20 != d|0x20 {
			return false
		}
	}
	return true
}

// fixedBody reads a Content-Length body from the connection's reader.
type fixedBody struct {
	r *bufio.Reader
	n int64
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if b.n == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if n == 0 && err == nil {
		err = errors.New("no progress reading the response body")
	}
	return n, err
}
