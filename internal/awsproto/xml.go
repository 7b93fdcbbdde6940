package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// QueryContentType is the Content-Type of AWS Query responses.
const QueryContentType = "text/xml"

// EncodeQueryResponse renders an AWS Query response for action: out (an SDK
// output struct, or nil for none) inside <ActionResult>, then the request
// ID, all inside <ActionResponse xmlns=...>. Member elements are named by
// the SDK field names; lists are <member> items, maps <entry><key/><value/>
// items, timestamps ISO 8601 with milliseconds (UTC); nil members and empty
// strings are left out.
func EncodeQueryResponse(xmlns, action, requestID string, out any) ([]byte, error) {
	buf := make([]byte, 0, 1024)
	buf = append(buf, '<')
	buf = append(buf, action...)
	buf = append(buf, "Response"...)
	buf = appendXMLNS(buf, xmlns)
	buf = append(buf, '>')
	result := action + "Result"
	rv := reflect.ValueOf(out)
	if out == nil || rv.Kind() == reflect.Pointer && rv.IsNil() {
		buf = append(buf, '<')
		buf = append(buf, result...)
		buf = append(buf, "/>"...)
	} else {
		var err error
		if buf, err = xmlEncoderFor(rv.Type())(buf, result, rv); err != nil {
			return nil, fmt.Errorf("encoding %T: %w", out, err)
		}
	}
	buf = append(buf, "<ResponseMetadata><RequestId>"...)
	buf = appendXMLText(buf, requestID)
	buf = append(buf, "</RequestId></ResponseMetadata></"...)
	buf = append(buf, action...)
	buf = append(buf, "Response>"...)
	return buf, nil
}

// WriteQueryResponse writes EncodeQueryResponse's document with status 200.
func WriteQueryResponse(w http.ResponseWriter, xmlns, action, requestID string, out any) error {
	body, err := EncodeQueryResponse(xmlns, action, requestID, out)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", QueryContentType)
	w.Write(body)
	return nil
}

// EncodeQueryError renders err as an AWS Query error document:
// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>.
// The Code is the error's Type, except for the errors every AWS service
// shares, which the Query protocols name differently (queryNames).
func EncodeQueryError(xmlns, requestID string, err error) []byte {
	e := AsError(err)
	code, _ := queryCode(e)
	fault := "Sender"
	if e.HTTPStatus() >= 500 {
		fault = "Receiver"
	}
	buf := make([]byte, 0, 256+len(e.Message))
	buf = append(buf, "<ErrorResponse"...)
	buf = appendXMLNS(buf, xmlns)
	buf = append(buf, "><Error><Type>"...)
	buf = append(buf, fault...)
	buf = append(buf, "</Type><Code>"...)
	buf = appendXMLText(buf, code)
	buf = append(buf, "</Code><Message>"...)
	buf = appendXMLText(buf, e.Message)
	buf = append(buf, "</Message></Error><RequestId>"...)
	buf = appendXMLText(buf, requestID)
	return append(buf, "</RequestId></ErrorResponse>"...)
}

// WriteQueryError writes err as an AWS Query XML error with its HTTP status.
func WriteQueryError(w http.ResponseWriter, xmlns, requestID string, err error) {
	e := AsError(err)
	_, status := queryCode(e)
	w.Header().Set("Content-Type", QueryContentType)
	w.WriteHeader(status)
	w.Write(EncodeQueryError(xmlns, requestID, e))
}

// queryNames are the AWS Query code and HTTP status (0: the error's own) of
// the errors JSON 1.1 services name otherwise: the AWS common errors.
var queryNames = map[string]struct {
	code   string
	status int
}{
	ServerException:            {InternalFailure, 0},
	MissingAuthenticationToken: {"MissingAuthenticationToken", http.StatusForbidden},
	IncompleteSignature:        {"IncompleteSignature", http.StatusBadRequest},
	InvalidSignature:           {"SignatureDoesNotMatch", http.StatusForbidden},
	UnrecognizedClient:         {"InvalidClientTokenId", http.StatusForbidden},
	AccessDeniedException:      {"AccessDenied", http.StatusForbidden},
}

// queryCode is the AWS Query error code and HTTP status of e.
func queryCode(e *Error) (string, int) {
	if n, ok := queryNames[e.Type]; ok {
		if n.status == 0 {
			return n.code, e.HTTPStatus()
		}
		return n.code, n.status
	}
	return e.Type, e.HTTPStatus()
}

func appendXMLNS(buf []byte, xmlns string) []byte {
	if xmlns == "" {
		return buf
	}
	buf = append(buf, ` xmlns="`...)
	buf = appendXMLText(buf, xmlns)
	return append(buf, '"')
}

// appendXMLText appends s escaped as XML character data.
func appendXMLText(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' || c >= 0x80 {
			var b bytes.Buffer
			xml.EscapeText(&b, []byte(s))
			return append(buf, b.Bytes()...)
		}
	}
	return append(buf, s...)
}

// xmlEncodeFunc appends the element <name>v</name>.
type xmlEncodeFunc func(buf []byte, name string, v reflect.Value) ([]byte, error)

var xmlEncoderCache sync.Map // reflect.Type → xmlEncodeFunc

func xmlEncoderFor(t reflect.Type) xmlEncodeFunc {
	if f, ok := xmlEncoderCache.Load(t); ok {
		return f.(xmlEncodeFunc)
	}
	var real xmlEncodeFunc
	indirect := xmlEncodeFunc(func(buf []byte, name string, v reflect.Value) ([]byte, error) { return real(buf, name, v) })
	if f, loaded := xmlEncoderCache.LoadOrStore(t, indirect); loaded {
		return f.(xmlEncodeFunc)
	}
	real = newXMLEncoder(t)
	xmlEncoderCache.Store(t, real)
	return real
}

func openTag(buf []byte, name string) []byte {
	buf = append(buf, '<')
	buf = append(buf, name...)
	return append(buf, '>')
}

func closeTag(buf []byte, name string) []byte {
	buf = append(buf, "</"...)
	buf = append(buf, name...)
	return append(buf, '>')
}

// text returns an encoder of a value rendered as character data.
func text(f func(buf []byte, v reflect.Value) []byte) xmlEncodeFunc {
	return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
		buf = openTag(buf, name)
		buf = f(buf, v)
		return closeTag(buf, name), nil
	}
}

type xmlField struct {
	index int
	name  string
	enc   xmlEncodeFunc
	omit  func(v reflect.Value) bool
}

// newXMLEncoder builds the encoder of type t, by t's kind: composite
// kinds in their own functions below, scalars here.
func newXMLEncoder(t reflect.Type) xmlEncodeFunc {
	if t == timeType {
		return text(func(buf []byte, v reflect.Value) []byte {
			return v.Interface().(time.Time).UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z")
		})
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := xmlEncoderFor(t.Elem())
		return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return buf, nil
			}
			return elem(buf, name, v.Elem())
		}
	case reflect.Struct:
		return xmlStructEncoder(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return text(func(buf []byte, v reflect.Value) []byte {
				return base64.StdEncoding.AppendEncode(buf, v.Bytes())
			})
		}
		return xmlListEncoder(t)
	case reflect.Map:
		return xmlMapEncoder(t)
	case reflect.String:
		return text(func(buf []byte, v reflect.Value) []byte { return appendXMLText(buf, v.String()) })
	case reflect.Bool:
		return text(func(buf []byte, v reflect.Value) []byte { return strconv.AppendBool(buf, v.Bool()) })
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return text(func(buf []byte, v reflect.Value) []byte { return strconv.AppendInt(buf, v.Int(), 10) })
	case reflect.Float32, reflect.Float64:
		return text(func(buf []byte, v reflect.Value) []byte {
			switch f := v.Float(); {
			case math.IsNaN(f):
				return append(buf, "NaN"...)
			case math.IsInf(f, 1):
				return append(buf, "Infinity"...)
			case math.IsInf(f, -1):
				return append(buf, "-Infinity"...)
			default:
				return strconv.AppendFloat(buf, f, 'f', -1, t.Bits())
			}
		})
	case reflect.Interface:
		return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return buf, nil
			}
			return nil, fmt.Errorf("cannot encode %s (a union or document) as XML", v.Elem().Type())
		}
	}
	return func([]byte, string, reflect.Value) ([]byte, error) { return nil, fmt.Errorf("cannot encode %s", t) }
}

// xmlStructEncoder encodes a struct as an element of its set members (nil
// pointers, slices, maps and interfaces, and empty strings, are left out).
func xmlStructEncoder(t reflect.Type) xmlEncodeFunc {
	var fields []xmlField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		f := xmlField{index: i, name: sf.Name, enc: xmlEncoderFor(sf.Type)}
		switch sf.Type.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			f.omit = reflect.Value.IsNil
		case reflect.String:
			f.omit = func(v reflect.Value) bool { return v.Len() == 0 }
		}
		fields = append(fields, f)
	}
	return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
		buf = openTag(buf, name)
		var err error
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omit != nil && f.omit(fv) {
				continue
			}
			if buf, err = f.enc(buf, f.name, fv); err != nil {
				return nil, err
			}
		}
		return closeTag(buf, name), nil
	}
}

// xmlListEncoder encodes a slice as <member> elements.
func xmlListEncoder(t reflect.Type) xmlEncodeFunc {
	elem := xmlEncoderFor(t.Elem())
	return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
		buf = openTag(buf, name)
		var err error
		for i := range v.Len() {
			if buf, err = elem(buf, "member", v.Index(i)); err != nil {
				return nil, err
			}
		}
		return closeTag(buf, name), nil
	}
}

// xmlMapEncoder encodes a map as <entry><key>..</key><value>..</value>
// elements, its keys sorted.
func xmlMapEncoder(t reflect.Type) xmlEncodeFunc {
	elem := xmlEncoderFor(t.Elem())
	return func(buf []byte, name string, v reflect.Value) ([]byte, error) {
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		buf = openTag(buf, name)
		var err error
		for _, k := range keys {
			buf = append(buf, "<entry><key>"...)
			buf = appendXMLText(buf, k.String())
			buf = append(buf, "</key>"...)
			if buf, err = elem(buf, "value", v.MapIndex(k)); err != nil {
				return nil, err
			}
			buf = append(buf, "</entry>"...)
		}
		return closeTag(buf, name), nil
	}
}
