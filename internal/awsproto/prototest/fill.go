// Package prototest holds test helpers for the wire layer: it fills SDK
// structs with a value in every member so tests can prove that ecsd's decoder
// and the SDK's serializer agree on every member name and type.
package prototest

import (
	"fmt"
	"reflect"
	"time"
)

// Fill sets every exported member of the struct v points to, recursively,
// to a non-zero value. Enum strings get arbitrary text; that is fine for
// round-trip tests. Interface-typed members (unions, documents) stay nil.
func Fill(v any) {
	fill(reflect.ValueOf(v).Elem(), 0, "x")
}

var timeType = reflect.TypeFor[time.Time]()

func fill(v reflect.Value, depth int, seed string) {
	t := v.Type()
	if t == timeType {
		v.Set(reflect.ValueOf(time.Unix(1629906352, 807000000).UTC()))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		e := reflect.New(t.Elem())
		fill(e.Elem(), depth+1, seed)
		v.Set(e)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" {
				continue
			}
			fill(v.Field(i), depth+1, f.Name)
		}
	case reflect.Slice:
		if depth > 6 {
			return
		}
		if t.Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(seed))
			return
		}
		s := reflect.MakeSlice(t, 2, 2)
		for i := range 2 {
			fill(s.Index(i), depth+1, fmt.Sprintf("%s%d", seed, i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(t)
		for i := range 2 {
			k := reflect.New(t.Key()).Elem()
			k.SetString(fmt.Sprintf("k%d", i))
			e := reflect.New(t.Elem()).Elem()
			fill(e, depth+1, seed)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(seed + "-v")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(int64(len(seed)) + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(len(seed)) + 0.5)
	}
}
