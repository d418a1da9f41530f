package detect

import (
	"fmt"
	"math"
	"reflect"
	"time"
)

// goFunc is a plain Go function adapted to expr's calling convention.
type goFunc struct {
	call func(args ...any) (any, error)
	// signature is what the compiler checks calls against: the function's
	// parameters as declared where expressions can express them (basic
	// types), any elsewhere, and a result that is any when the call may
	// give nil.
	signature any
}

var (
	errorType = reflect.TypeOf((*error)(nil)).Elem()
	timeType  = reflect.TypeOf(time.Time{})
	anyType   = reflect.TypeOf((*any)(nil)).Elem()
)

// adaptFunc checks fn's type and builds its adapter. The commonest shapes
// are called without reflection.
func adaptFunc(name string, fn any) (*goFunc, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("detect: function %q is %T, not a function", name, fn)
	}
	t := v.Type()
	switch {
	case t.NumOut() == 1 && t.Out(0) != errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType:
	default:
		return nil, fmt.Errorf("detect: function %q (%s) must return one value, or a value and an error", name, t)
	}
	convs := make([]argConv, t.NumIn())
	in := make([]reflect.Type, t.NumIn())
	mayBeNil := false
	for i := range convs {
		pt := t.In(i)
		if t.IsVariadic() && i == t.NumIn()-1 {
			pt = pt.Elem()
		}
		c, err := converter(pt)
		if err != nil {
			return nil, fmt.Errorf("detect: function %q: parameter %d: %v", name, i+1, err)
		}
		convs[i] = c
		mayBeNil = mayBeNil || c.skipsNil()
		in[i] = declared(pt)
		if t.IsVariadic() && i == t.NumIn()-1 {
			in[i] = reflect.SliceOf(in[i])
		}
	}
	out := t.Out(0)
	isBool := out.Kind() == reflect.Bool
	if mayBeNil && !isBool || out.Kind() != reflect.Bool && out.PkgPath() != "" {
		// Named result types (and results that may be nil) are declared
		// as any, so that no operation is compiled for a type that the
		// value may not have.
		out = anyType
	}
	g := &goFunc{signature: reflect.Zero(reflect.FuncOf(in, []reflect.Type{out}, t.IsVariadic())).Interface()}
	var skipped any
	if isBool {
		skipped = false
	}
	a := &adapter{name: name, convs: convs, skipped: skipped}
	if fast := a.fast(fn); fast != nil {
		g.call = fast
		return g, nil
	}
	g.call = a.reflectCall(v, t)
	return g, nil
}

// declared is the type the compiler is told a parameter has: basic types
// as they are, so that a literal of another type is a compile error, and
// any for everything a conversion may produce.
func declared(t reflect.Type) reflect.Type {
	if t.PkgPath() != "" {
		return anyType
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return t
	}
	return anyType
}

// argConv converts an expression value to a parameter type.
type argConv struct {
	t    reflect.Type
	conv func(v any) (reflect.Value, error)
}

// skipsNil reports whether a nil argument means not calling the function:
// the parameter cannot hold nil.
func (c argConv) skipsNil() bool {
	switch c.t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Func, reflect.Chan:
		return false
	}
	return true
}

// converter returns the conversion of expression values to t.
func converter(t reflect.Type) (argConv, error) {
	c := argConv{t: t}
	switch {
	case t == timeType:
		c.conv = func(v any) (reflect.Value, error) {
			if tm, ok := v.(time.Time); ok {
				return reflect.ValueOf(tm), nil
			}
			if tm, ok := parseEventTime(v); ok {
				return reflect.ValueOf(tm), nil
			}
			return reflect.Value{}, fmt.Errorf("want a time, got %s", typeName(v))
		}
		return c, nil
	case t.Kind() == reflect.Interface:
		c.conv = func(v any) (reflect.Value, error) {
			if v == nil {
				return reflect.Zero(t), nil
			}
			rv := reflect.ValueOf(v)
			if !rv.Type().Implements(t) {
				return reflect.Value{}, fmt.Errorf("want %s, got %s", t, typeName(v))
			}
			return rv.Convert(t), nil
		}
		return c, nil
	case t.Kind() == reflect.Slice:
		elem, err := converter(t.Elem())
		if err != nil {
			return c, err
		}
		c.conv = func(v any) (reflect.Value, error) {
			if v == nil {
				return reflect.Zero(t), nil
			}
			rv := reflect.ValueOf(v)
			if rv.Type().AssignableTo(t) {
				return rv, nil
			}
			if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
				return reflect.Value{}, fmt.Errorf("want a list, got %s", typeName(v))
			}
			out := reflect.MakeSlice(t, rv.Len(), rv.Len())
			for i := 0; i < rv.Len(); i++ {
				e := rv.Index(i).Interface()
				if e == nil && elem.skipsNil() {
					return reflect.Value{}, fmt.Errorf("element %d is nil", i)
				}
				ev, err := elem.conv(e)
				if err != nil {
					return reflect.Value{}, fmt.Errorf("element %d: %v", i, err)
				}
				out.Index(i).Set(ev)
			}
			return out, nil
		}
		return c, nil
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Map, reflect.Pointer, reflect.Struct, reflect.Array:
		c.conv = func(v any) (reflect.Value, error) {
			if v == nil {
				return reflect.Zero(t), nil
			}
			rv := reflect.ValueOf(v)
			switch {
			case rv.Type() == t:
				return rv, nil
			case rv.Type().AssignableTo(t):
				return rv.Convert(t), nil
			case rv.Kind() == t.Kind() && (t.Kind() == reflect.String || t.Kind() == reflect.Bool):
				// Named string and bool types.
				return rv.Convert(t), nil
			}
			return reflect.Value{}, fmt.Errorf("want %s, got %s", kindName(t), typeName(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		c.conv = func(v any) (reflect.Value, error) {
			out := reflect.New(t).Elem()
			if setInteger(out, v) {
				return out, nil
			}
			if f, isNum := toFloat(v); isNum && f == math.Trunc(f) {
				return reflect.Value{}, fmt.Errorf("%s out of the range of %s", typeName(v), t)
			}
			return reflect.Value{}, fmt.Errorf("want a whole number, got %s", typeName(v))
		}
	case reflect.Float32, reflect.Float64:
		c.conv = func(v any) (reflect.Value, error) {
			f, ok := toFloat(v)
			if !ok {
				return reflect.Value{}, fmt.Errorf("want a number, got %s", typeName(v))
			}
			out := reflect.New(t).Elem()
			out.SetFloat(f)
			return out, nil
		}
	default:
		return c, fmt.Errorf("type %s cannot come from an expression", t)
	}
	return c, nil
}

// setInteger stores v in out, an integer of any size, when v is a whole
// number that out can hold.
func setInteger(out reflect.Value, v any) bool {
	if f, ok := v.(float64); ok {
		switch {
		case f != math.Trunc(f):
			return false
		case f >= 0 && f < 1<<64 && out.CanUint():
			if u := uint64(f); !out.OverflowUint(u) {
				out.SetUint(u)
				return true
			}
		case f >= -(1<<63) && f < 1<<63 && out.CanInt():
			if i := int64(f); !out.OverflowInt(i) {
				out.SetInt(i)
				return true
			}
		}
		return false
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		i := rv.Int()
		if out.CanInt() {
			if out.OverflowInt(i) {
				return false
			}
			out.SetInt(i)
			return true
		}
		if i < 0 || out.OverflowUint(uint64(i)) {
			return false
		}
		out.SetUint(uint64(i))
		return true
	case rv.CanUint():
		u := rv.Uint()
		if out.CanUint() {
			if out.OverflowUint(u) {
				return false
			}
			out.SetUint(u)
			return true
		}
		if u > math.MaxInt64 || out.OverflowInt(int64(u)) {
			return false
		}
		out.SetInt(int64(u))
		return true
	}
	return false
}

// kindName names a parameter type in the words of error messages.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map:
		return "a map"
	}
	return t.String()
}

// adapter calls a Go function with converted arguments.
type adapter struct {
	name    string
	convs   []argConv
	skipped any // the result when a nil argument means no call
}

func (a *adapter) argError(i int, err error) error {
	return fmt.Errorf("%s: argument %d: %v", a.name, i+1, err)
}

func (a *adapter) resultError(err error) error {
	return fmt.Errorf("%s: %w", a.name, err)
}

// reflectCall calls any function through reflection.
func (a *adapter) reflectCall(fn reflect.Value, t reflect.Type) func(args ...any) (any, error) {
	variadic := t.IsVariadic()
	fixed := len(a.convs)
	if variadic {
		fixed--
	}
	withErr := t.NumOut() == 2
	return func(args ...any) (any, error) {
		if len(args) < fixed || !variadic && len(args) > fixed {
			return nil, fmt.Errorf("%s: %d arguments, want %d", a.name, len(args), fixed)
		}
		in := make([]reflect.Value, len(args))
		for i, arg := range args {
			c := a.convs[min(i, len(a.convs)-1)]
			if arg == nil && c.skipsNil() {
				return a.skipped, nil
			}
			v, err := c.conv(arg)
			if err != nil {
				return nil, a.argError(i, err)
			}
			in[i] = v
		}
		out := fn.Call(in)
		if withErr && !out[1].IsNil() {
			return nil, a.resultError(out[1].Interface().(error))
		}
		return out[0].Interface(), nil
	}
}

// fast returns a call without reflection for common shapes of functions,
// or nil.
func (a *adapter) fast(fn any) func(args ...any) (any, error) {
	switch f := fn.(type) {
	case func(string) bool:
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			return f(s), nil
		}
	case func(string, string) bool:
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			t, ok, err := a.str(1, args[1])
			if !ok {
				return a.skipped, err
			}
			return f(s, t), nil
		}
	case func(string) string:
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			return f(s), nil
		}
	case func(string) (bool, error):
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			b, err := f(s)
			if err != nil {
				return nil, a.resultError(err)
			}
			return b, nil
		}
	case func(string) (string, error):
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			r, err := f(s)
			if err != nil {
				return nil, a.resultError(err)
			}
			return r, nil
		}
	case func(string) float64:
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			return f(s), nil
		}
	case func(string) int:
		return func(args ...any) (any, error) {
			s, ok, err := a.str(0, args[0])
			if !ok {
				return a.skipped, err
			}
			return f(s), nil
		}
	case func(any) bool:
		return func(args ...any) (any, error) { return f(args[0]), nil }
	case func(any) any:
		return func(args ...any) (any, error) { return f(args[0]), nil }
	case func(any) (any, error):
		return func(args ...any) (any, error) {
			r, err := f(args[0])
			if err != nil {
				return nil, a.resultError(err)
			}
			return r, nil
		}
	}
	return nil
}

// str converts argument i to a string: ok is false when the function must
// not be called, with an error when the argument is not a string.
func (a *adapter) str(i int, v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case string:
		return x, true, nil
	case nil:
		return "", false, nil
	}
	rv, err := a.convs[i].conv(v)
	if err != nil {
		return "", false, a.argError(i, err)
	}
	return rv.String(), true, nil
}
