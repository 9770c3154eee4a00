package store

import (
	"reflect"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// NormalizeTimes brings every time.Time reachable from the record v points
// to (struct fields, nested structs, map values) to the precision the
// contract promises: UTC, whole microseconds. Maps are replaced by
// normalized copies, never changed in place, because they may be shared
// with the caller. Backends call it on every record they write, so that
// they all read back the same times.
func NormalizeTimes(v any) {
	normalizeValue(reflect.ValueOf(v).Elem())
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				t := v.Interface().(time.Time)
				if !t.IsZero() {
					v.Set(reflect.ValueOf(t.UTC().Truncate(time.Microsecond)))
				}
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				normalizeValue(f)
			}
		}
	case reflect.Map:
		if v.IsNil() || !hasTimes(v.Type().Elem()) || !v.CanSet() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(it.Value())
			normalizeValue(val)
			m.SetMapIndex(it.Key(), val)
		}
		v.Set(m)
	}
}

// hasTimes reports whether values of t may hold a time.Time.
func hasTimes(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if hasTimes(t.Field(i).Type) {
				return true
			}
		}
	case reflect.Map:
		return hasTimes(t.Elem())
	}
	return false
}
