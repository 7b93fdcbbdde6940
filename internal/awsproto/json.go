package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Members says how a service's API model spells its JSON member names,
// given the SDK's Go field names.
type Members uint8

const (
	// LowerFirst: the field name with its first letter lowered
	// ("serviceName"), as ECS and CodeDeploy spell them.
	LowerFirst Members = iota
	// AsField: the field name itself ("ServiceNamespace"), as Application
	// Auto Scaling spells them.
	AsField
)

// name is the wire member name of an SDK struct field.
func (m Members) name(field string) string {
	if m == AsField {
		return field
	}
	return MemberName(field)
}

// EncodeJSON serializes an SDK output value as AWS JSON: member names are
// the model's (the SDK field name with its first letter lowered), timestamps
// epoch seconds with milliseconds, nil members omitted. Unlike the SDK's
// client-side serializer it writes zero-valued numbers and booleans
// ("runningCount":0), as ECS itself does.
func EncodeJSON(v any) ([]byte, error) { return EncodeJSONAs(v, LowerFirst) }

// EncodeJSONAs is EncodeJSON for a service whose member names are spelled
// as m says.
func EncodeJSONAs(v any, m Members) ([]byte, error) {
	rv := reflect.ValueOf(v)
	hint, _ := sizeHints.Load(rv.Type())
	size, _ := hint.(int)
	buf := make([]byte, 0, max(size, 512))
	buf, err := encoderFor(rv.Type(), m)(buf, rv)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	if len(buf) > size {
		sizeHints.Store(rv.Type(), len(buf)+len(buf)/4)
	}
	return buf, nil
}

// sizeHints remembers, per type, a buffer size that held its last large
// encoding, so encoding a big response rarely grows its buffer.
var sizeHints sync.Map // reflect.Type → int

type encodeFunc func(buf []byte, v reflect.Value) ([]byte, error)

// typeKey caches what is built per type and member spelling.
type typeKey struct {
	t reflect.Type
	m Members
}

var encoderCache sync.Map // typeKey -> encodeFunc

func encoderFor(t reflect.Type, m Members) encodeFunc {
	key := typeKey{t, m}
	if f, ok := encoderCache.Load(key); ok {
		return f.(encodeFunc)
	}
	// Recursive types: publish an indirection before building.
	var real encodeFunc
	indirect := encodeFunc(func(buf []byte, v reflect.Value) ([]byte, error) { return real(buf, v) })
	if f, loaded := encoderCache.LoadOrStore(key, indirect); loaded {
		return f.(encodeFunc)
	}
	real = newEncoder(t, m)
	encoderCache.Store(key, real)
	return real
}

type fieldEncoder struct {
	index int
	key   []byte // "name":
	enc   encodeFunc
	omit  func(v reflect.Value) bool
}

// newEncoder builds the encoder of type t, by t's kind: composite kinds
// in their own functions below, scalars here.
func newEncoder(t reflect.Type, m Members) encodeFunc {
	if t == timeType {
		return func(buf []byte, v reflect.Value) ([]byte, error) {
			ms := v.Interface().(time.Time).UnixMilli()
			return strconv.AppendFloat(buf, float64(ms)/1000, 'f', -1, 64), nil
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := encoderFor(t.Elem(), m)
		return func(buf []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(buf, "null"...), nil
			}
			return elem(buf, v.Elem())
		}
	case reflect.Struct:
		return structEncoder(t, m)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(buf []byte, v reflect.Value) ([]byte, error) {
				buf = append(buf, '"')
				buf = base64.StdEncoding.AppendEncode(buf, v.Bytes())
				return append(buf, '"'), nil
			}
		}
		return listEncoder(t, m)
	case reflect.Map:
		return mapEncoder(t, m)
	case reflect.String:
		return func(buf []byte, v reflect.Value) ([]byte, error) { return appendString(buf, v.String()), nil }
	case reflect.Bool:
		return func(buf []byte, v reflect.Value) ([]byte, error) { return strconv.AppendBool(buf, v.Bool()), nil }
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return func(buf []byte, v reflect.Value) ([]byte, error) { return strconv.AppendInt(buf, v.Int(), 10), nil }
	case reflect.Float32, reflect.Float64:
		return func(buf []byte, v reflect.Value) ([]byte, error) {
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return appendString(buf, strconv.FormatFloat(f, 'f', -1, 64)), nil
			}
			return strconv.AppendFloat(buf, f, 'f', -1, t.Bits()), nil
		}
	case reflect.Interface:
		return documentEncoder
	}
	return func([]byte, reflect.Value) ([]byte, error) { return nil, fmt.Errorf("cannot encode %s", t) }
}

// structEncoder encodes a struct as an object of its set members (nil
// pointers, slices, maps and interfaces, and empty strings, are left out).
func structEncoder(t reflect.Type, m Members) encodeFunc {
	var fields []fieldEncoder
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		key, _ := json.Marshal(m.name(sf.Name))
		fe := fieldEncoder{index: i, key: append(key, ':'), enc: encoderFor(sf.Type, m)}
		switch sf.Type.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			fe.omit = reflect.Value.IsNil
		case reflect.String:
			fe.omit = func(v reflect.Value) bool { return v.Len() == 0 }
		}
		fields = append(fields, fe)
	}
	return func(buf []byte, v reflect.Value) ([]byte, error) {
		buf = append(buf, '{')
		first := true
		var err error
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omit != nil && f.omit(fv) {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = append(buf, f.key...)
			if buf, err = f.enc(buf, fv); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
}

func listEncoder(t reflect.Type, m Members) encodeFunc {
	elem := encoderFor(t.Elem(), m)
	return func(buf []byte, v reflect.Value) ([]byte, error) {
		buf = append(buf, '[')
		var err error
		for i := range v.Len() {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = elem(buf, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	}
}

// mapEncoder encodes a map as an object, its keys sorted.
func mapEncoder(t reflect.Type, m Members) encodeFunc {
	elem := encoderFor(t.Elem(), m)
	return func(buf []byte, v reflect.Value) ([]byte, error) {
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		buf = append(buf, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k.String())
			buf = append(buf, ':')
			if buf, err = elem(buf, v.MapIndex(k)); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
}

// documentEncoder encodes an interface member: a Smithy document as its
// JSON; ecsd emits no unions.
func documentEncoder(buf []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(buf, "null"...), nil
	}
	if m, ok := v.Interface().(interface{ MarshalSmithyDocument() ([]byte, error) }); ok {
		doc, err := m.MarshalSmithyDocument()
		if err != nil {
			return nil, err
		}
		return append(buf, doc...), nil
	}
	return nil, fmt.Errorf("cannot encode %s (a union); ecsd does not emit unions", v.Elem().Type())
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := json.Marshal(s)
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// DecodeOptions tune DecodeJSON.
type DecodeOptions struct {
	// CaseInsensitive also accepts member names in other casings (the SDK's
	// own "TaskDefinitionArn" style), as definition files written for
	// ecspresso sometimes are. Requests from AWS clients never need it.
	CaseInsensitive bool
	// Document builds the value of a document-typed member (a Smithy
	// document, such as ECS lifecycle hookDetails) from its decoded JSON.
	// Without it, a document member is a SerializationException.
	Document func(v any) any
	// UnknownMember, when set, is called with the path of each member that
	// has no field in the target (AWS services ignore them).
	UnknownMember func(path string)
	// Members is how the service spells its member names (default
	// LowerFirst, as ECS).
	Members Members
}

// DecodeJSON decodes an AWS JSON request body into v, a pointer to an SDK
// input struct. Bad JSON (including invalid UTF-8 and an object member
// given twice) and members of the wrong type are SerializationExceptions,
// as AWS answers them. Unknown members are ignored.
func DecodeJSON(body []byte, v any, opts DecodeOptions) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	raw, err := parseJSON(body)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("DecodeJSON needs a non-nil pointer, got %T", v)
	}
	d := decoder{opts: opts}
	return d.value(raw, rv.Elem(), "")
}

type decoder struct {
	opts DecodeOptions
}

// parseJSON parses a JSON document into maps, slices, strings, json.Numbers,
// booleans and nils. Unlike encoding/json it refuses what AWS refuses as
// malformed: invalid UTF-8 (encoding/json would store U+FFFD instead) and a
// member name given twice in one object (encoding/json would keep the last).
func parseJSON(body []byte) (any, error) {
	if !utf8.Valid(body) {
		i := 0
		for i < len(body) {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return nil, Errorf(SerializationException, "The request body is not valid UTF-8 (at byte %d); send text as UTF-8.", i)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	raw, err := parseJSONValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errorf(SerializationException, "The request body has data after its JSON object.")
	}
	return raw, nil
}

func parseJSONValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, Errorf(SerializationException, "The request body is not valid JSON: %v", err)
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, Errorf(SerializationException, "The request body is not valid JSON: %v", err)
			}
			name := tok.(string) // the decoder allows only strings as names
			if _, dup := obj[name]; dup {
				return nil, Errorf(SerializationException, "%s has member %q twice; give each member once.", describe(path), name)
			}
			if obj[name], err = parseJSONValue(dec, join(path, name)); err != nil {
				return nil, err
			}
		}
		return obj, parseJSONEnd(dec)
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			item, err := parseJSONValue(dec, fmt.Sprintf("%s[%d]", path, len(arr)))
			if err != nil {
				return nil, err
			}
			arr = append(arr, item)
		}
		return arr, parseJSONEnd(dec)
	}
	return tok, nil
}

// parseJSONEnd reads the '}' or ']' closing an object or array.
func parseJSONEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Errorf(SerializationException, "The request body is not valid JSON: %v", err)
	}
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// value decodes raw (a parsed JSON value) into v, by v's kind: composite
// kinds in their own functions below, scalars here.
func (d *decoder) value(raw any, v reflect.Value, path string) error {
	if raw == nil {
		return nil // null leaves the member unset
	}
	t := v.Type()
	if t == timeType {
		return d.timestamp(raw, v, path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if err := d.value(raw, elem.Elem(), path); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	case reflect.Struct:
		return d.structure(raw, v, path)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return d.blob(raw, v, path)
		}
		return d.list(raw, v, path)
	case reflect.Map:
		return d.mapping(raw, v, path)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return mismatch(path, "a string", raw)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return mismatch(path, "a boolean", raw)
		}
		v.SetBool(b)
		return nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := raw.(json.Number)
		if !ok {
			return mismatch(path, "a number", raw)
		}
		i, err := strconv.ParseInt(n.String(), 10, t.Bits())
		if err != nil {
			return Errorf(SerializationException, "%s: %s is not a valid %d-bit integer.", describe(path), n, t.Bits())
		}
		v.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			return mismatch(path, "a number", raw)
		}
		f, err := strconv.ParseFloat(n.String(), t.Bits())
		if err != nil {
			return Errorf(SerializationException, "%s: %s is not a valid number.", describe(path), n)
		}
		v.SetFloat(f)
		return nil
	case reflect.Interface:
		if d.opts.Document != nil && t.NumMethod() > 0 && t.Name() == "Interface" {
			v.Set(reflect.ValueOf(d.opts.Document(plain(raw))))
			return nil
		}
		return Errorf(SerializationException, "%s: this member is not supported by ecsd.", describe(path))
	}
	return fmt.Errorf("cannot decode into %s at %s", t, path)
}

// structure decodes a JSON object into a struct, member by member.
func (d *decoder) structure(raw any, v reflect.Value, path string) error {
	obj, ok := raw.(map[string]any)
	if !ok {
		return mismatch(path, "an object", raw)
	}
	fields := fieldsOf(v.Type(), d.opts.Members)
	for name, member := range obj {
		idx, ok := fields.exact[name]
		if !ok && d.opts.CaseInsensitive {
			idx, ok = fields.folded[strings.ToLower(name)]
		}
		if !ok {
			if d.opts.UnknownMember != nil {
				d.opts.UnknownMember(join(path, name))
			}
			continue
		}
		if err := d.value(member, v.Field(idx), join(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) blob(raw any, v reflect.Value, path string) error {
	s, ok := raw.(string)
	if !ok {
		return mismatch(path, "a base64 string", raw)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Errorf(SerializationException, "%s is not valid base64.", describe(path))
	}
	v.SetBytes(b)
	return nil
}

func (d *decoder) list(raw any, v reflect.Value, path string) error {
	arr, ok := raw.([]any)
	if !ok {
		return mismatch(path, "a list", raw)
	}
	out := reflect.MakeSlice(v.Type(), len(arr), len(arr))
	for i, item := range arr {
		if err := d.value(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func (d *decoder) mapping(raw any, v reflect.Value, path string) error {
	obj, ok := raw.(map[string]any)
	if !ok {
		return mismatch(path, "a map", raw)
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("unsupported map key type %s", t.Key())
	}
	out := reflect.MakeMapWithSize(t, len(obj))
	for k, item := range obj {
		ev := reflect.New(t.Elem()).Elem()
		if err := d.value(item, ev, join(path, k)); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
	}
	v.Set(out)
	return nil
}

func (d *decoder) timestamp(raw any, v reflect.Value, path string) error {
	switch x := raw.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return Errorf(SerializationException, "%s: %s is not a valid timestamp.", describe(path), x)
		}
		sec, frac := math.Modf(f)
		v.Set(reflect.ValueOf(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()))
		return nil
	case string:
		tm, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return Errorf(SerializationException, "%s: %q is not a valid timestamp.", describe(path), x)
		}
		v.Set(reflect.ValueOf(tm.UTC()))
		return nil
	}
	return mismatch(path, "a timestamp", raw)
}

// plain turns json.Number leaves into float64 or int64 for document values.
func plain(raw any) any {
	switch x := raw.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = plain(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plain(x[k])
		}
	}
	return raw
}

func mismatch(path, want string, got any) error {
	kind := "a value"
	switch got.(type) {
	case map[string]any:
		kind = "an object"
	case []any:
		kind = "a list"
	case string:
		kind = "a string"
	case json.Number:
		kind = "a number"
	case bool:
		kind = "a boolean"
	}
	return Errorf(SerializationException, "%s must be %s, not %s.", describe(path), want, kind)
}

func describe(path string) string {
	if path == "" {
		return "The request body"
	}
	return "Member " + path
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

type structFields struct {
	exact  map[string]int // wire member name → field index
	folded map[string]int // lower-cased member name → field index
}

var fieldCache sync.Map // typeKey → *structFields

// fieldsOf maps an SDK struct's wire member names to its fields. The SDK
// names a field by upper-casing the first letter of the member name; the
// member name is recovered as m says.
func fieldsOf(t reflect.Type, m Members) *structFields {
	key := typeKey{t, m}
	if f, ok := fieldCache.Load(key); ok {
		return f.(*structFields)
	}
	f := &structFields{exact: map[string]int{}, folded: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		name := m.name(sf.Name)
		f.exact[name] = i
		f.folded[strings.ToLower(name)] = i
	}
	fieldCache.Store(key, f)
	return f
}

// MemberName is the wire member name of an SDK struct field.
func MemberName(field string) string {
	r, size := utf8.DecodeRuneInString(field)
	return string(unicode.ToLower(r)) + field[size:]
}
