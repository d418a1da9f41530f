package sigma

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detectkit/detect"
)

// The functions that compiled Sigma rules call. Rules pass them constants
// from the rule file: a pattern in Sigma's syntax, a regular expression, a
// number. They follow detect's rules for missing data: nil never matches.

// maxCached bounds each cache of compiled patterns. Rules pass constants,
// so a rule set fills it once; past the bound, patterns are compiled at
// each use rather than kept.
const maxCached = 1 << 16

type cache[T any] struct {
	m sync.Map
	n atomic.Int64
}

func (c *cache[T]) get(key string, build func() (T, error)) (T, error) {
	if v, ok := c.m.Load(key); ok {
		return v.(T), nil
	}
	v, err := build()
	if err != nil {
		return v, err
	}
	if c.n.Load() < maxCached {
		if _, loaded := c.m.LoadOrStore(key, v); !loaded {
			c.n.Add(1)
		}
	}
	return v, nil
}

var (
	folded, cased cache[*matcher]
	regexps       cache[*regexp.Regexp]
)

// texts calls f with each text that v stands for, until f returns true:
// a string is itself, a number or a boolean its JSON text, a list each of
// its elements' texts (a field that holds a list matches when an element
// does). nil, and maps, stand for no text.
func texts(v any, f func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return f(v)
	case int:
		return f(strconv.Itoa(v))
	case float64:
		return f(formatFloat(v))
	case bool:
		return f(strconv.FormatBool(v))
	case json.Number:
		return f(v.String())
	case []any:
		for _, e := range v {
			if _, isList := e.([]any); isList {
				continue // one level, as JSON arrays of values are read
			}
			if texts(e, f) {
				return true
			}
		}
	}
	return false
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func like(c *cache[*matcher], isCased bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		ms := matchers(c, args[1], isCased)
		return texts(args[0], func(s string) bool {
			for _, m := range ms {
				if m.match(s) {
					return true
				}
			}
			return false
		}), nil
	}
}

// matchers compiles a pattern, or a list of them, through the cache.
func matchers(c *cache[*matcher], p any, isCased bool) []*matcher {
	compile := func(s string) *matcher {
		m, _ := c.get(s, func() (*matcher, error) { return compileMatcher(parsePattern(s), isCased), nil })
		return m
	}
	switch p := p.(type) {
	case string:
		return []*matcher{compile(p)}
	case []any:
		out := make([]*matcher, 0, len(p))
		for _, e := range p {
			if s, ok := e.(string); ok {
				out = append(out, compile(s))
			}
		}
		return out
	}
	return nil
}

// number reads v as a number: a JSON number, or text that is one.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// sigmaEq matches a number or boolean of the rule: a field with that value,
// or text that spells it.
func sigmaEq(args ...any) (any, error) {
	want := args[1]
	if b, ok := want.(bool); ok {
		return texts(args[0], func(s string) bool { return strings.EqualFold(s, strconv.FormatBool(b)) }), nil
	}
	n, ok := number(want)
	if !ok {
		return false, nil
	}
	switch v := args[0].(type) {
	case []any:
		for _, e := range v {
			if got, ok := number(e); ok && got == n {
				return true, nil
			}
		}
		return false, nil
	case nil, bool, map[string]any:
		return false, nil
	}
	got, ok := number(args[0])
	return ok && got == n, nil
}

func sigmaRe(args ...any) (any, error) {
	src, ok := args[1].(string)
	if !ok {
		return false, nil
	}
	re, err := regexps.get(src, func() (*regexp.Regexp, error) { return regexp.Compile(src) })
	if err != nil {
		return false, err
	}
	return texts(args[0], re.MatchString), nil
}

// sigmaCmp compares a field with a number: op is lt, lte, gt or gte.
func sigmaCmp(args ...any) (any, error) {
	op, _ := args[1].(string)
	n, ok := number(args[2])
	if !ok {
		return false, nil
	}
	got, ok := number(args[0])
	if !ok {
		return false, nil
	}
	switch op {
	case "lt":
		return got < n, nil
	case "lte":
		return got <= n, nil
	case "gt":
		return got > n, nil
	case "gte":
		return got >= n, nil
	}
	return false, fmt.Errorf("sigma: unknown comparison %q", op)
}

// timeLayouts are the time formats sigmaTime reads.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"}

// sigmaTime extracts a part of a time (minute, hour, day, week, month,
// year), read as RFC 3339 or a similar layout, or as epoch seconds; nil
// when it is not a time.
func sigmaTime(args ...any) (any, error) {
	unit, _ := args[1].(string)
	var t time.Time
	switch v := args[0].(type) {
	case string:
		ok := false
		for _, layout := range timeLayouts {
			if parsed, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
				t, ok = parsed, true
				break
			}
		}
		if !ok {
			return nil, nil
		}
	case int:
		t = time.Unix(int64(v), 0).UTC()
	case float64:
		t = time.Unix(int64(v), 0).UTC()
	default:
		return nil, nil
	}
	switch unit {
	case "minute":
		return t.Minute(), nil
	case "hour":
		return t.Hour(), nil
	case "day":
		return t.Day(), nil
	case "week":
		_, w := t.ISOWeek()
		return w, nil
	case "month":
		return int(t.Month()), nil
	case "year":
		return t.Year(), nil
	}
	return nil, fmt.Errorf("sigma: unknown time part %q", unit)
}

// maxKeywordValues bounds how many values of an event a keyword search
// looks at.
const maxKeywordValues = 1 << 16

// sigmaKeyword searches every text of the event (strings, numbers and
// booleans, at any depth) for a keyword pattern.
func sigmaKeyword(c *cache[*matcher], isCased bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		ms := matchers(c, args[1], isCased)
		match := func(s string) bool {
			for _, m := range ms {
				if m.match(s) {
					return true
				}
			}
			return false
		}
		budget := maxKeywordValues
		var walk func(v any) bool
		walk = func(v any) bool {
			if budget--; budget < 0 {
				return false
			}
			switch v := v.(type) {
			case map[string]any:
				for _, e := range v {
					if walk(e) {
						return true
					}
				}
				return false
			case []any:
				for _, e := range v {
					if walk(e) {
						return true
					}
				}
				return false
			}
			return texts(v, match)
		}
		return walk(args[0]), nil
	}
}

// sigmaLookup reads a field through paths ("EventData.{field}|UserData.*.{field}",
// where {field} stands for the field): a step is a key, matched exactly, else
// ignoring case; * steps into every child object, in key order; the field
// itself also matches a key that equals it once spaces are removed.
func sigmaLookup(args ...any) (any, error) {
	paths, _ := args[1].(string)
	field, _ := args[2].(string)
	for _, p := range strings.Split(paths, "|") {
		if v := lookupPath(args[0], strings.Split(p, "."), field); v != nil {
			return v, nil
		}
	}
	return nil, nil
}

func lookupPath(v any, steps []string, field string) any {
	if len(steps) == 0 {
		return v
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	switch step := steps[0]; step {
	case "*":
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if got := lookupPath(m[k], steps[1:], field); got != nil {
				return got
			}
		}
		return nil
	case "{field}":
		return lookupPath(looseKey(m, field), steps[1:], field)
	default:
		return lookupPath(looseKey(m, step), steps[1:], field)
	}
}

// looseKey reads a key of m: exactly, else ignoring case, else ignoring
// case and spaces; among several keys, the first in byte order.
func looseKey(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	var best string
	found := false
	for k := range m {
		if (strings.EqualFold(k, key) || equalFoldNoSpaces(k, key)) && (!found || k < best) {
			best, found = k, true
		}
	}
	if !found {
		return nil
	}
	return m[best]
}

// equalFoldNoSpaces reports whether k, without its spaces, equals key
// ignoring ASCII case.
func equalFoldNoSpaces(k, key string) bool {
	if !strings.Contains(k, " ") {
		return false
	}
	j := 0
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == ' ' {
			continue
		}
		if j >= len(key) || lowerASCII(c) != lowerASCII(key[j]) {
			return false
		}
		j++
	}
	return j == len(key)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

var (
	valueText = new(func(any, string) bool)
	valueAny  = new(func(any, any) bool)
)

// functions are the functions compiled Sigma rules call, added to a set of
// the caller's or to a new one.
func addFunctions(fns *detect.Functions) error {
	regs := []struct {
		name string
		fn   func(args ...any) (any, error)
		sig  any
	}{
		{"sigma_like", like(&folded, false), valueAny},
		{"sigma_like_cased", like(&cased, true), valueAny},
		{"sigma_eq", sigmaEq, valueAny},
		{"sigma_re", sigmaRe, valueText},
		{"sigma_cmp", sigmaCmp, new(func(any, string, any) bool)},
		{"sigma_time", sigmaTime, new(func(any, string) any)},
		{"sigma_keyword", sigmaKeyword(&folded, false), valueAny},
		{"sigma_keyword_cased", sigmaKeyword(&cased, true), valueAny},
		{"sigma_lookup", sigmaLookup, new(func(any, string, string) any)},
	}
	for _, r := range regs {
		if err := fns.Register(r.name, r.fn, r.sig); err != nil {
			return err
		}
	}
	describe := map[string]detect.IndicatorFunc{
		"sigma_like":       likeIndicator(false),
		"sigma_like_cased": likeIndicator(true),
		"sigma_eq": func(args []any) (detect.Indicator, bool) {
			return detect.Indicator{Kind: "eq", Values: []any{args[0]}}, args[0] != nil
		},
		"sigma_re": func(args []any) (detect.Indicator, bool) {
			return detect.Indicator{Kind: "regex", Values: []any{args[0]}}, args[0] != nil
		},
		"sigma_cmp": func(args []any) (detect.Indicator, bool) {
			op, ok := args[0].(string)
			return detect.Indicator{Kind: op, Values: []any{args[1]}}, ok && args[1] != nil
		},
	}
	for name, fn := range describe {
		if err := fns.DescribeIndicator(name, fn); err != nil {
			return err
		}
	}
	return nil
}

// likeIndicator reads sigma_like's patterns as an indicator: eq,
// startswith, endswith or contains when every pattern has that shape (the
// values without their wildcards), glob otherwise.
func likeIndicator(isCased bool) detect.IndicatorFunc {
	return func(args []any) (detect.Indicator, bool) {
		var pats []string
		switch p := args[0].(type) {
		case string:
			pats = []string{p}
		case []any:
			for _, e := range p {
				if s, ok := e.(string); ok {
					pats = append(pats, s)
				}
			}
		}
		if len(pats) == 0 {
			return detect.Indicator{}, false
		}
		in := detect.Indicator{IgnoreCase: !isCased}
		for _, s := range pats {
			m := compileMatcher(parsePattern(s), true)
			kind, value := "glob", any(s)
			switch m.shape {
			case shapeExact:
				kind, value = "eq", m.lit
			case shapePrefix:
				kind, value = "startswith", m.lit
			case shapeSuffix:
				kind, value = "endswith", m.lit
			case shapeContains:
				kind, value = "contains", m.lit
			}
			if in.Kind != "" && in.Kind != kind {
				// Mixed shapes: all of them as patterns.
				in.Kind, in.Values = "glob", nil
				for _, s := range pats {
					in.Values = append(in.Values, s)
				}
				return in, true
			}
			in.Kind = kind
			in.Values = append(in.Values, value)
		}
		return in, true
	}
}
