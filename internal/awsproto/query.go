package awsproto

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of the AWS Query protocol itself (the AWS common error codes).
const (
	ValidationError      = "ValidationError"      // a parameter has the wrong form or is out of range
	MissingAction        = "MissingAction"        // no Action parameter
	InvalidAction        = "InvalidAction"        // Action names no operation of the service
	NoSuchVersion        = "NoSuchVersion"        // Version names no API ecsd answers
	MalformedQueryString = "MalformedQueryString" // the body is not form-encoded
)

// QueryDecodeOptions tune DecodeQuery.
type QueryDecodeOptions struct {
	// UnknownMember, when set, is called with each parameter name that has
	// no field in the target (AWS services ignore them).
	UnknownMember func(name string)
}

// DecodeQuery decodes the parameters of an AWS Query request into v, a
// pointer to an SDK input struct. Member names are the SDK field names
// (ELBv2's model uses them unchanged); lists are Name.member.N (N from 1), an empty list is "Name=" and maps are
// Name.entry.N.key / Name.entry.N.value. Items are taken in the order of
// N; gaps are closed (the SDK leaves one for an item with no member set).
// The protocol's own Action and
// Version parameters are skipped. Values of the wrong form are
// ValidationErrors naming the parameter.
func DecodeQuery(params url.Values, v any, opts QueryDecodeOptions) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("DecodeQuery needs a non-nil pointer, got %T", v)
	}
	root := &qnode{}
	for _, name := range slices.Sorted(mapKeys(params)) {
		if name == "Action" || name == "Version" {
			continue
		}
		vals := params[name]
		if len(vals) != 1 {
			return Errorf(ValidationError, "Parameter %s is given %d times; give it once.", name, len(vals))
		}
		if err := root.insert(name, vals[0]); err != nil {
			return err
		}
	}
	d := queryDecoder{opts: opts}
	return d.value(root, rv.Elem(), "")
}

func mapKeys(v url.Values) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range v {
			if !yield(k) {
				return
			}
		}
	}
}

// qnode is one dotted segment of the parameter names: the parameters
// "A.member.1=x&A.member.2=y" form A → member → {1: x, 2: y}.
type qnode struct {
	value    string
	hasValue bool
	children map[string]*qnode
}

func (n *qnode) insert(name, value string) error {
	cur := n
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" {
			return Errorf(ValidationError, "Parameter name %q is malformed: it has an empty part between dots.", name)
		}
		if cur.children == nil {
			cur.children = map[string]*qnode{}
		}
		next := cur.children[seg]
		if next == nil {
			next = &qnode{}
			cur.children[seg] = next
		}
		cur = next
	}
	cur.value, cur.hasValue = value, true
	return nil
}

type queryDecoder struct {
	opts QueryDecodeOptions
}

// value decodes n into v, by v's kind: composite kinds in their own
// functions below, scalars here.
func (d *queryDecoder) value(n *qnode, v reflect.Value, path string) error {
	t := v.Type()
	if t == timeType {
		return d.timestamp(n, v, path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if err := d.value(n, elem.Elem(), path); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	case reflect.Struct:
		return d.structure(n, v, path)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return d.blob(n, v, path)
		}
		return d.list(n, v, path)
	case reflect.Map:
		return d.mapping(n, v, path)
	case reflect.String:
		s, err := d.leaf(n, path, "a string")
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		s, err := d.leaf(n, path, "true or false")
		if err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return Errorf(ValidationError, "Parameter %s: %q is not a boolean; use true or false.", path, s)
		}
		return nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		s, err := d.leaf(n, path, "an integer")
		if err != nil {
			return err
		}
		i, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return Errorf(ValidationError, "Parameter %s: %q is not a valid %d-bit integer.", path, s, t.Bits())
		}
		v.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		s, err := d.leaf(n, path, "a number")
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || math.IsNaN(f) {
			return Errorf(ValidationError, "Parameter %s: %q is not a valid number.", path, s)
		}
		v.SetFloat(f)
		return nil
	case reflect.Interface:
		return Errorf(ValidationError, "Parameter %s is not supported by ecsd.", path)
	}
	return fmt.Errorf("cannot decode into %s at %s", t, path)
}

func (d *queryDecoder) timestamp(n *qnode, v reflect.Value, path string) error {
	s, err := d.leaf(n, path, "a timestamp")
	if err != nil {
		return err
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Errorf(ValidationError, "Parameter %s: %q is not an ISO 8601 timestamp (2006-01-02T15:04:05Z).", path, s)
	}
	v.Set(reflect.ValueOf(tm.UTC()))
	return nil
}

// structure decodes Path.Member=value parameters into a struct.
func (d *queryDecoder) structure(n *qnode, v reflect.Value, path string) error {
	if n.hasValue && n.value != "" || n.hasValue && len(n.children) == 0 && path != "" {
		return Errorf(ValidationError, "Parameter %s is a structure: give its members as %s.Name=value.", path, path)
	}
	fields := queryFieldsOf(v.Type())
	for _, name := range slices.Sorted(nodeKeys(n)) {
		idx, ok := fields[name]
		if !ok {
			if d.opts.UnknownMember != nil {
				d.opts.UnknownMember(joinQuery(path, name))
			}
			continue
		}
		if err := d.value(n.children[name], v.Field(idx), joinQuery(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func (d *queryDecoder) blob(n *qnode, v reflect.Value, path string) error {
	s, err := d.leaf(n, path, "base64 data")
	if err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Errorf(ValidationError, "Parameter %s is not valid base64.", path)
	}
	v.SetBytes(b)
	return nil
}

// list decodes Path.member.N parameters into a slice.
func (d *queryDecoder) list(n *qnode, v reflect.Value, path string) error {
	items, err := d.numbered(n, path, "member")
	if err != nil {
		return err
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		if err := d.value(item, out.Index(i), fmt.Sprintf("%s.member.%d", path, i+1)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

// mapping decodes Path.entry.N.key and .value parameters into a map.
func (d *queryDecoder) mapping(n *qnode, v reflect.Value, path string) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("unsupported map key type %s", t.Key())
	}
	entries, err := d.numbered(n, path, "entry")
	if err != nil || len(entries) == 0 {
		return err // maps have no empty form on the wire
	}
	out := reflect.MakeMapWithSize(t, len(entries))
	for i, e := range entries {
		at := fmt.Sprintf("%s.entry.%d", path, i+1)
		kn, vn := e.children["key"], e.children["value"]
		if kn == nil || vn == nil || len(e.children) != 2 {
			return Errorf(ValidationError, "Parameter %s must have exactly a key and a value (%s.key, %s.value).", at, at, at)
		}
		key, err := d.leaf(kn, at+".key", "a string")
		if err != nil {
			return err
		}
		ev := reflect.New(t.Elem()).Elem()
		if err := d.value(vn, ev, at+".value"); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), ev)
	}
	v.Set(out)
	return nil
}

// leaf returns the value of a node that must be a single value.
func (d *queryDecoder) leaf(n *qnode, path, want string) (string, error) {
	if len(n.children) > 0 || !n.hasValue {
		return "", Errorf(ValidationError, "Parameter %s must be %s, not a structure or list.", path, want)
	}
	return n.value, nil
}

// numbered returns the items of a list (Name.member.N) or map
// (Name.entry.N) in order. "Name=" alone is an empty list.
func (d *queryDecoder) numbered(n *qnode, path, word string) ([]*qnode, error) {
	if n.hasValue && n.value != "" {
		return nil, Errorf(ValidationError, "Parameter %s is a list: give its items as %s.%s.1, %s.%s.2, ...", path, path, word, path, word)
	}
	if len(n.children) == 0 {
		return nil, nil
	}
	m := n.children[word]
	if len(n.children) != 1 || m == nil || m.hasValue {
		return nil, Errorf(ValidationError, "Parameter %s is a list: give its items as %s.%s.1, %s.%s.2, ...", path, path, word, path, word)
	}
	type item struct {
		i int
		n *qnode
	}
	items := make([]item, 0, len(m.children))
	for k, c := range m.children {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || strconv.Itoa(i) != k {
			return nil, Errorf(ValidationError, "Parameter %s.%s.%s: list items are numbered from 1.", path, word, k)
		}
		items = append(items, item{i, c})
	}
	slices.SortFunc(items, func(a, b item) int { return a.i - b.i })
	out := make([]*qnode, len(items))
	for j, it := range items {
		out[j] = it.n
	}
	return out, nil
}

func nodeKeys(n *qnode) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range n.children {
			if !yield(k) {
				return
			}
		}
	}
}

func joinQuery(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var queryFieldCache sync.Map // reflect.Type → map[string]int

// queryFieldsOf maps an SDK struct's query member names (its exported
// field names) to field indexes.
func queryFieldsOf(t reflect.Type) map[string]int {
	if f, ok := queryFieldCache.Load(t); ok {
		return f.(map[string]int)
	}
	f := map[string]int{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		f[sf.Name] = i
	}
	queryFieldCache.Store(t, f)
	return f
}
