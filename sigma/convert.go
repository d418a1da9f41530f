package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/goccy/go-yaml"
)

// UnsupportedError says that a rule uses a feature that detect does not
// run; Feature names it.
type UnsupportedError struct {
	Feature string
	Detail  string
}

func (e *UnsupportedError) Error() string {
	if e.Detail == "" {
		return "unsupported: " + e.Feature
	}
	return "unsupported: " + e.Feature + ": " + e.Detail
}

func unsupported(feature, format string, args ...any) error {
	return &UnsupportedError{Feature: feature, Detail: fmt.Sprintf(format, args...)}
}

// converter writes a rule's detection as an expression for one variant
// of its log source.
type converter struct {
	v            variant
	placeholders map[string][]string
	// size is how much expression text the conversion has written, which
	// maxExprBytes bounds: YAML aliases can repeat a long list many times.
	size int
}

// maxExprBytes bounds the expression text of one rule's detection.
const maxExprBytes = 4 << 20

// spend counts n bytes of expression text.
func (c *converter) spend(n int) error {
	if c.size += n; c.size > maxExprBytes {
		return fmt.Errorf("the detection makes more than %d bytes of expression", maxExprBytes)
	}
	return nil
}

// selection writes a search identifier's value: a map (its fields ANDed),
// a list of maps (ORed), or keywords (a list of values, ORed, or a map
// with the key "|all").
func (c *converter) selection(name string, v any) (string, error) {
	switch v := v.(type) {
	case yaml.MapSlice:
		return c.fieldMap(v)
	case []any:
		if len(v) == 0 {
			return "", fmt.Errorf("search identifier %s is an empty list", name)
		}
		allMaps, anyMap := true, false
		for _, e := range v {
			_, isMap := e.(yaml.MapSlice)
			allMaps, anyMap = allMaps && isMap, anyMap || isMap
		}
		if anyMap && !allMaps {
			return "", fmt.Errorf("search identifier %s mixes maps and keywords", name)
		}
		if allMaps {
			parts := make([]string, 0, len(v))
			for _, e := range v {
				s, err := c.fieldMap(e.(yaml.MapSlice))
				if err != nil {
					return "", err
				}
				parts = append(parts, "("+s+")")
			}
			return strings.Join(parts, " || "), nil
		}
		return c.match("", nil, v)
	case nil:
		return "", fmt.Errorf("search identifier %s is empty", name)
	default:
		return c.match("", nil, []any{v})
	}
}

// fieldMap writes a map of field matches, ANDed.
func (c *converter) fieldMap(m yaml.MapSlice) (string, error) {
	if len(m) == 0 {
		return "", fmt.Errorf("a selection is an empty map")
	}
	parts := make([]string, 0, len(m))
	for _, item := range m {
		key, ok := item.Key.(string)
		if !ok {
			key = fmt.Sprint(item.Key)
		}
		field, mods, _ := strings.Cut(key, "|")
		var modList []string
		if mods != "" {
			modList = strings.Split(mods, "|")
		}
		values, ok := item.Value.([]any)
		if !ok {
			values = []any{item.Value}
		}
		s, err := c.match(field, modList, values)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		parts = append(parts, "("+s+")")
	}
	return strings.Join(parts, " && "), nil
}

// conditions writes a pipeline's selection of a log source's events. A
// field without modifiers must equal one of its values exactly, as the
// engine's index and prefilter can use (Channel == "Security" routes an
// event to the rules of its channel); with modifiers, it matches as in a
// rule.
func (c *converter) conditions(m yaml.MapSlice) (string, error) {
	var parts []string
	var rest yaml.MapSlice
	for _, item := range m {
		key, _ := item.Key.(string)
		values, isList := item.Value.([]any)
		if !isList {
			values = []any{item.Value}
		}
		lits, ok := exactLiterals(values)
		if strings.Contains(key, "|") || !ok {
			rest = append(rest, item)
			continue
		}
		target := c.v.fieldExpr(key)
		if len(lits) == 1 {
			parts = append(parts, target+" == "+lits[0])
		} else {
			parts = append(parts, target+" in ["+strings.Join(lits, ", ")+"]")
		}
	}
	if len(rest) > 0 {
		s, err := c.fieldMap(rest)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+s+")")
	}
	return strings.Join(parts, " && "), nil
}

// exactLiterals writes strings and numbers as expression literals.
func exactLiterals(values []any) ([]string, bool) {
	out := make([]string, 0, len(values))
	for _, v := range values {
		switch v := v.(type) {
		case string:
			out = append(out, strconv.Quote(v))
		case int, int64, uint64, float64:
			out = append(out, numberLiteral(normalizeNumber(v)))
		default:
			return nil, false
		}
	}
	return out, len(out) > 0
}

// value is one value of a field match on its way through the modifiers.
type value struct {
	pat    pattern // a string value, as a pattern
	raw    string  // the string as written, for re, cidr, expand, fieldref
	isStr  bool
	num    any // an int, float64 or bool value
	isNull bool
}

var knownModifiers = []string{
	"contains", "startswith", "endswith", "all", "exists", "cased", "neq", "windash",
	"re", "i", "m", "s", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide",
	"lt", "lte", "gt", "gte", "minute", "hour", "day", "week", "month", "year",
	"cidr", "expand", "fieldref",
}

// match writes the match of one field (or, with field empty, of keywords
// over the whole event) against values with modifiers.
func (c *converter) match(field string, mods []string, raw []any) (string, error) {
	for _, m := range mods {
		if !slices.Contains(knownModifiers, m) {
			return "", unsupported("modifier "+m, "not in the Sigma specification's appendix")
		}
	}
	has := func(m string) bool { return slices.Contains(mods, m) }
	target := "$env"
	if field != "" {
		target = c.v.fieldExpr(field)
	}

	if has("exists") {
		if field == "" || len(raw) != 1 {
			return "", fmt.Errorf("exists takes one boolean value, on a field")
		}
		b, ok := raw[0].(bool)
		if !ok {
			return "", fmt.Errorf("exists takes true or false, not %v", raw[0])
		}
		if b {
			return target + " != nil", nil
		}
		return target + " == nil", nil
	}

	values := make([]value, 0, len(raw))
	for _, r := range raw {
		switch r := r.(type) {
		case nil:
			values = append(values, value{isNull: true})
		case string:
			values = append(values, value{pat: parsePattern(r), raw: r, isStr: true})
		case bool:
			values = append(values, value{num: r})
		case int, int64, uint64, float64:
			values = append(values, value{num: normalizeNumber(r)})
		default:
			return "", fmt.Errorf("a value must be a string, number, boolean or null, not %T", r)
		}
	}
	if len(values) == 0 {
		return "", fmt.Errorf("no values")
	}

	// Transformation modifiers, in the order written.
	var timePart string
	cmp := ""
	isRe, reFlags, isCIDR, isFieldref, cased := false, "", false, false, has("cased")
	for _, m := range mods {
		var err error
		switch m {
		case "contains", "startswith", "endswith":
			values, err = eachString(values, m, func(v value) ([]value, error) {
				v.pat = v.pat.star(m != "startswith", m != "endswith")
				return []value{v}, nil
			})
		case "windash":
			values, err = eachString(values, m, func(v value) ([]value, error) { return windash(v) })
		case "base64", "base64offset":
			values, err = eachString(values, m, func(v value) ([]value, error) { return encodeBase64(v, m == "base64offset") })
		case "utf16le", "wide", "utf16be", "utf16":
			values, err = eachString(values, m, func(v value) ([]value, error) { return encodeUTF16(v, m) })
		case "expand":
			values, err = eachString(values, m, func(v value) ([]value, error) { return c.expand(v) })
		case "re":
			isRe = true
		case "i", "m", "s":
			if !isRe {
				return "", fmt.Errorf("modifier %s follows re", m)
			}
			reFlags += m
		case "cidr":
			isCIDR = true
		case "fieldref":
			isFieldref = true
		case "lt", "lte", "gt", "gte":
			cmp = m
		case "minute", "hour", "day", "week", "month", "year":
			timePart = m
		}
		if err != nil {
			return "", err
		}
	}
	subject := target
	if timePart != "" {
		subject = "sigma_time(" + target + ", " + strconv.Quote(timePart) + ")"
	}

	all, neq := has("all"), has("neq")
	if all && len(raw) < 2 && field != "" {
		return "", fmt.Errorf("all needs two values or more")
	}
	// Plain string values, and keywords, go to one call with a list of
	// patterns when they are ORed (or, with neq, all negated).
	var patterns []string
	var parts []string
	for _, v := range values {
		var s string
		var err error
		switch {
		case v.isStr && !isRe && !isCIDR && !isFieldref && cmp == "" && !all:
			p := v.pat
			if field == "" {
				p = p.star(true, true)
			}
			patterns = append(patterns, p.String())
			continue
		case field == "":
			s, err = keyword(v, cased)
		case v.isNull:
			s = subject + " == nil"
		case isFieldref:
			if !v.isStr {
				return "", fmt.Errorf("fieldref takes a field name")
			}
			other := c.v.fieldExpr(v.raw)
			s = "(" + subject + " != nil && " + subject + " == " + other + ")"
		case isRe:
			s, err = regexMatch(subject, v, reFlags)
		case isCIDR:
			s, err = cidrMatch(subject, v)
		case cmp != "":
			n := v.num
			if v.isStr {
				f, perr := strconv.ParseFloat(v.raw, 64)
				if perr != nil {
					return "", fmt.Errorf("%s takes a number, not %q", cmp, v.raw)
				}
				n = normalizeNumber(f)
			}
			if _, isBool := n.(bool); isBool || n == nil {
				return "", fmt.Errorf("%s takes a number", cmp)
			}
			s = "sigma_cmp(" + subject + ", " + strconv.Quote(cmp) + ", " + numberLiteral(n) + ")"
		case v.isStr:
			s = likeCall(field, subject, []string{v.pat.String()}, cased)
		default:
			s = "sigma_eq(" + subject + ", " + numberLiteral(v.num) + ")"
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	if len(patterns) > 0 {
		n := 0
		for _, p := range patterns {
			n += len(p) + 4
		}
		if err := c.spend(n); err != nil {
			return "", err
		}
		parts = append(parts, likeCall(field, subject, patterns, cased))
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if err := c.spend(n); err != nil {
		return "", err
	}
	switch {
	case neq:
		// The field differs from every value.
		for i, p := range parts {
			parts[i] = "!(" + p + ")"
		}
		return strings.Join(parts, " && "), nil
	case all:
		return strings.Join(parts, " && "), nil
	}
	return strings.Join(parts, " || "), nil
}

// likeCall matches a field (or, with field empty, the event's texts)
// against patterns: any of them.
func likeCall(field, subject string, patterns []string, cased bool) string {
	fn := "sigma_like"
	if field == "" {
		fn, subject = "sigma_keyword", "$env"
	}
	if cased {
		fn += "_cased"
	}
	arg := strconv.Quote(patterns[0])
	if len(patterns) > 1 {
		quoted := make([]string, len(patterns))
		for i, p := range patterns {
			quoted[i] = strconv.Quote(p)
		}
		arg = "[" + strings.Join(quoted, ", ") + "]"
	}
	return fn + "(" + subject + ", " + arg + ")"
}

func normalizeNumber(n any) any {
	switch n := n.(type) {
	case int64:
		return int(n)
	case uint64:
		if n <= math.MaxInt64 {
			return int(n)
		}
		return float64(n)
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int(n)
		}
	}
	return n
}

func numberLiteral(n any) string {
	switch n := n.(type) {
	case int:
		return strconv.Itoa(n)
	case float64:
		s := strconv.FormatFloat(n, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(n)
	}
	return "nil"
}

// eachString applies f to every string value; other values are an error
// for modifier m.
func eachString(values []value, m string, f func(value) ([]value, error)) ([]value, error) {
	var out []value
	for _, v := range values {
		if !v.isStr {
			return nil, fmt.Errorf("modifier %s applies to strings", m)
		}
		vs, err := f(v)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	if len(out) > maxValues {
		return nil, fmt.Errorf("modifier %s makes %d values, more than %d", m, len(out), maxValues)
	}
	return out, nil
}

// maxValues bounds the values that modifiers may expand one match into.
const maxValues = 1 << 16

// dashes are the characters windash makes interchangeable.
var dashes = []string{"-", "/", "–", "—", "―"}

// windash makes every dash that starts a word (a command-line flag) any
// of the dashes.
func windash(v value) ([]value, error) {
	out := []pattern{{}}
	for _, q := range v.pat.parts {
		if q.wild {
			for i := range out {
				out[i].parts = append(out[i].parts, q)
			}
			continue
		}
		// Split the literal at flag dashes.
		texts := []string{""}
		s := q.text
		for i := 0; i < len(s); {
			d := dashAt(s, i)
			prevWord := i > 0 && isWordByte(s[i-1])
			if d != "" && !prevWord {
				var next []string
				for _, t := range texts {
					for _, alt := range dashes {
						next = append(next, t+alt)
					}
				}
				if len(next) > maxValues {
					return nil, fmt.Errorf("windash makes more than %d values", maxValues)
				}
				texts = next
				i += len(d)
				continue
			}
			for j := range texts {
				texts[j] += s[i : i+1]
			}
			i++
		}
		var next []pattern
		for _, p := range out {
			for _, t := range texts {
				np := pattern{parts: append(append([]part(nil), p.parts...), part{text: t})}
				next = append(next, np)
			}
		}
		if len(next) > maxValues {
			return nil, fmt.Errorf("windash makes more than %d values", maxValues)
		}
		out = next
	}
	vs := make([]value, len(out))
	for i, p := range out {
		vs[i] = value{pat: p, raw: p.String(), isStr: true}
	}
	return vs, nil
}

func dashAt(s string, i int) string {
	for _, d := range dashes {
		if strings.HasPrefix(s[i:], d) {
			return d
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// encodeBase64 encodes a plain value, or with offset the three forms it
// takes at any place inside a longer encoded text.
func encodeBase64(v value, offset bool) ([]value, error) {
	text, ok := v.pat.plain()
	if !ok {
		return nil, unsupported("base64 of a value with wildcards", "%q", v.raw)
	}
	if !offset {
		return []value{plainValue(base64.StdEncoding.EncodeToString([]byte(text)))}, nil
	}
	start := [3]int{0, 2, 3}
	end := [3]int{0, -3, -2}
	var out []value
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + text))
		e := end[(len(text)+i)%3]
		hi := len(enc)
		if e != 0 {
			hi = len(enc) + e
		}
		if start[i] > hi {
			continue
		}
		out = append(out, plainValue(enc[start[i]:hi]))
	}
	return out, nil
}

func plainValue(s string) value {
	p := literalPattern(s)
	return value{pat: p, raw: p.String(), isStr: true}
}

// encodeUTF16 encodes the text of a value as UTF-16 bytes.
func encodeUTF16(v value, m string) ([]value, error) {
	enc := func(s string) string {
		units := utf16.Encode([]rune(s))
		var b strings.Builder
		if m == "utf16" {
			b.WriteString("\xff\xfe")
		}
		for _, u := range units {
			if m == "utf16be" {
				b.WriteByte(byte(u >> 8))
				b.WriteByte(byte(u))
			} else {
				b.WriteByte(byte(u))
				b.WriteByte(byte(u >> 8))
			}
		}
		return b.String()
	}
	first := true
	p := v.pat.mapText(func(s string) string {
		if m == "utf16" && !first {
			// The byte order mark starts the text only.
			return enc(s)[2:]
		}
		first = false
		return enc(s)
	})
	return []value{{pat: p, raw: p.String(), isStr: true}}, nil
}

var placeholder = regexp.MustCompile(`%[A-Za-z0-9_.-]+%`)

// expand replaces the %name% placeholders of a value with each of the
// values the pipelines give them.
func (c *converter) expand(v value) ([]value, error) {
	names := placeholder.FindAllString(v.raw, -1)
	if len(names) == 0 {
		return []value{v}, nil
	}
	texts := []string{v.raw}
	for _, n := range names {
		vals, ok := c.placeholders[strings.Trim(n, "%")]
		if !ok {
			return nil, unsupported("placeholder "+n, "no pipeline gives it values")
		}
		var next []string
		for _, t := range texts {
			for _, val := range vals {
				next = append(next, strings.Replace(t, n, val, 1))
			}
		}
		if len(next) > maxValues {
			return nil, fmt.Errorf("expand makes more than %d values", maxValues)
		}
		texts = next
	}
	out := make([]value, len(texts))
	for i, t := range texts {
		out[i] = value{pat: parsePattern(t), raw: t, isStr: true}
	}
	return out, nil
}

// keyword matches a value that is not text anywhere in the event's
// texts.
func keyword(v value, cased bool) (string, error) {
	if v.isNull {
		return "", fmt.Errorf("a keyword cannot be null")
	}
	if !v.isStr {
		v = plainValue(numberLiteral(v.num))
	}
	return likeCall("", "$env", []string{v.pat.star(true, true).String()}, cased), nil
}

// regexMatch matches a regular expression (RE2 syntax, which covers the
// specification's PCRE subset) with the flags of the i, m and s modifiers.
func regexMatch(subject string, v value, flags string) (string, error) {
	if !v.isStr {
		return "", fmt.Errorf("re takes a string")
	}
	src := v.raw
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	if _, err := regexp.Compile(src); err != nil {
		return "", unsupported("regular expression", "%v", err)
	}
	return "sigma_re(" + subject + ", " + strconv.Quote(src) + ")", nil
}

func cidrMatch(subject string, v value) (string, error) {
	if !v.isStr {
		return "", fmt.Errorf("cidr takes a network")
	}
	if _, err := netip.ParsePrefix(v.raw); err != nil {
		return "", fmt.Errorf("cidr %q: %w", v.raw, err)
	}
	return "inCIDR(" + subject + ", " + strconv.Quote(v.raw) + ")", nil
}
