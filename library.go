package detect

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// The built-in library: functions for security rules that every expression
// may call, with or without a Functions set. They follow DESIGN's rules for
// missing data, and go further: they never fail. A nil argument, a value of
// the wrong type or text that does not parse (an IP address that is not
// one, JSON that is not JSON) gives false from a predicate and nil from
// anything else. Only their calls can be wrong: a call with the wrong
// number of arguments, a literal of the wrong type, or a constant CIDR,
// time zone or lookup table that does not exist is a compile error.
//
// docs/extending.md documents each function with an example; a test keeps
// that page and this table in step.

// libFunc is one function of the library: its body and the signatures the
// compiler checks its calls against.
type libFunc struct {
	fn    func(args ...any) (any, error)
	types []any
}

var (
	valueToBool  = new(func(any) bool)
	valueToValue = new(func(any) any)
	// Overloads are tried in order, and a call that fits none is
	// reported with the last: the one taking a string reads best.
	matchAny        = new(func(any, []any) bool)
	matchOne        = new(func(any, string) bool)
	timeToValue     = new(func(any) any)
	timeZoneToValue = new(func(any, string) any)
)

// library holds the functions of the built-in library, by name.
var library = map[string]libFunc{
	// IP addresses and networks.
	"isIP":        {libIsIP, []any{valueToBool}},
	"isIPv4":      {libIsIPv4, []any{valueToBool}},
	"isIPv6":      {libIsIPv6, []any{valueToBool}},
	"ipVersion":   {libIPVersion, []any{valueToValue}},
	"isPrivateIP": {libIsPrivateIP, []any{valueToBool}},
	"isPublicIP":  {libIsPublicIP, []any{valueToBool}},
	"inCIDR":      {libInCIDR, []any{matchAny, matchOne}},

	// Text.
	"glob":         {libGlob, []any{matchAny, matchOne}},
	"equalFold":    {libEqualFold, []any{matchAny, matchOne}},
	"containsFold": {libContainsFold, []any{matchAny, matchOne}},
	"emailDomain":  {libEmailDomain, []any{valueToValue}},
	"urlDomain":    {libURLDomain, []any{valueToValue}},

	// Decoding.
	"parseJSON": {libParseJSON, []any{valueToValue}},
	"b64decode": {libB64Decode, []any{valueToValue}},

	// Time.
	"parseTime": {libParseTime, []any{timeToValue}},
	"hourOf":    {libHourOf, []any{timeToValue, timeZoneToValue}},
	"weekdayOf": {libWeekdayOf, []any{timeToValue, timeZoneToValue}},
	"dateOf":    {libDateOf, []any{timeToValue, timeZoneToValue}},

	// Lookup tables; their calls are compiled into the internal forms
	// below, which hold the table itself.
	"lookup":   {libUnresolvedTable, []any{new(func(string, any) any)}},
	"inLookup": {libUnresolvedTable, []any{new(func(string, any) bool)}},
}

// Internal forms of library calls whose constant arguments are compiled
// once, with the rule.
const (
	fnGlobSet   = "__globSet"
	fnCIDRSet   = "__cidrSet"
	fnLookup    = "__lookup"
	fnInLookup  = "__inLookup"
	fnInFoldSet = "__inFoldSet"
)

// libraryPredicates are the library functions, and their internal forms,
// that always return a boolean: a boolean position needs no conversion of
// their result.
var libraryPredicates = map[string]bool{
	"isIP": true, "isIPv4": true, "isIPv6": true, "isPrivateIP": true, "isPublicIP": true,
	"inCIDR": true, "glob": true, "equalFold": true, "containsFold": true, "inLookup": true,
	fnGlobSet: true, fnCIDRSet: true, fnInLookup: true, fnInFoldSet: true,
}

// libraryOptions make the library known to the compiler.
var libraryOptions = func() []expr.Option {
	names := make([]string, 0, len(library))
	for name := range library {
		names = append(names, name)
	}
	sort.Strings(names)
	opts := make([]expr.Option, 0, len(names)+5)
	for _, name := range names {
		f := library[name]
		opts = append(opts, expr.Function(name, f.fn, f.types...))
	}
	return append(opts,
		expr.Function(fnGlobSet, rtGlobSet, new(func(any, any) bool)),
		expr.Function(fnCIDRSet, rtCIDRSet, new(func(any, any) bool)),
		expr.Function(fnLookup, rtLookup, new(func(any, any) any)),
		expr.Function(fnInLookup, rtInLookup, new(func(any, any) bool)),
		expr.Function(fnInFoldSet, rtInFoldSet, new(func(any, any) bool)),
	)
}()

// isLibraryFunction reports whether name is a function of the built-in
// library.
func isLibraryFunction(name string) bool {
	_, ok := library[name]
	return ok
}

// ---- IP addresses ----

// parseIP reads an IP address written as text, without its IPv6 zone.
func parseIP(v any) (netip.Addr, bool) {
	s, ok := v.(string)
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone(""), true
}

func libIsIP(args ...any) (any, error) {
	_, ok := parseIP(args[0])
	return ok, nil
}

func libIsIPv4(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	return ok && a.Is4(), nil
}

func libIsIPv6(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	return ok && a.Is6(), nil
}

func libIPVersion(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	switch {
	case !ok:
		return nil, nil
	case a.Is4():
		return 4, nil
	}
	return 6, nil
}

// mustPrefixes parses constant networks.
func mustPrefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

var (
	// privateNets are the networks of addresses used inside networks and
	// not routed on the internet: private-use (RFC 1918, RFC 4193), shared
	// (carrier-grade NAT, RFC 6598), loopback and link-local.
	privateNets = mustPrefixes(
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"127.0.0.0/8", "169.254.0.0/16",
		"fc00::/7", "::1/128", "fe80::/10",
	)
	// nonPublicNets are the networks of IANA's special-purpose address
	// registries that are not globally reachable, beyond the private ones.
	nonPublicNets = mustPrefixes(
		"0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"::/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fec0::/10",
	)
)

func inNets(a netip.Addr, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func libIsPrivateIP(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	return ok && inNets(a.Unmap(), privateNets), nil
}

func libIsPublicIP(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	if !ok {
		return false, nil
	}
	a = a.Unmap()
	return a.IsGlobalUnicast() && !inNets(a, privateNets) && !inNets(a, nonPublicNets), nil
}

// parseCIDR reads a network, or a single address as the network of just
// that address. An IPv4 network written in IPv4-mapped IPv6 form is read
// as the IPv4 network.
func parseCIDR(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.WithZone("").Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// cidrSet is a constant list of networks, parsed when the rule compiles.
type cidrSet []netip.Prefix

func (s cidrSet) contains(v any) bool {
	a, ok := parseIP(v)
	return ok && inNets(a.Unmap(), s)
}

func rtCIDRSet(args ...any) (any, error) {
	return args[1].(cidrSet).contains(args[0]), nil
}

// libInCIDR is inCIDR with networks known only when the rule runs; those
// that do not parse contain nothing.
func libInCIDR(args ...any) (any, error) {
	a, ok := parseIP(args[0])
	if !ok {
		return false, nil
	}
	a = a.Unmap()
	return anyString(args[1], func(c string) bool {
		p, err := parseCIDR(c)
		return err == nil && p.Contains(a)
	}), nil
}

// anyString reports whether test holds for v, a string, or for any string
// of v, a list.
func anyString(v any, test func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return test(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && test(s) {
				return true
			}
		}
	case []string:
		for _, s := range x {
			if test(s) {
				return true
			}
		}
	}
	return false
}

// ---- Text ----

func libGlob(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return false, nil
	}
	return anyString(args[1], func(pattern string) bool { return cachedGlob(pattern).match(s) }), nil
}

func rtGlobSet(args ...any) (any, error) {
	s, ok := args[0].(string)
	return ok && args[1].(globList).match(s), nil
}

func libEqualFold(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return false, nil
	}
	return anyString(args[1], func(t string) bool { return strings.EqualFold(s, t) }), nil
}

// foldSet is a constant list of strings compared ignoring case, indexed
// by their folded form.
type foldSet map[string]struct{}

func newFoldSet(list []string) foldSet {
	s := make(foldSet, len(list))
	for _, e := range list {
		s[foldString(e)] = struct{}{}
	}
	return s
}

func rtInFoldSet(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return false, nil
	}
	_, found := foldedLookup(args[1].(foldSet), s)
	return found, nil
}

// foldedLookup finds s in a map keyed by folded strings. Short ASCII
// strings are folded on the stack: looking a map up by string(bytes) does
// not allocate.
func foldedLookup[V any](m map[string]V, s string) (V, bool) {
	var buf [64]byte
	if len(s) <= len(buf) {
		n := 0
		for ; n < len(s); n++ {
			c := s[n]
			if c >= utf8.RuneSelf {
				break
			}
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf[n] = c
		}
		if n == len(s) {
			v, ok := m[string(buf[:n])]
			return v, ok
		}
	}
	v, ok := m[foldString(s)]
	return v, ok
}

func libContainsFold(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return false, nil
	}
	return anyString(args[1], func(sub string) bool { return containsFold(s, sub) }), nil
}

// containsFold reports whether sub is within s, ignoring case as
// strings.EqualFold does.
func containsFold(s, sub string) bool {
	if isASCII(s) && isASCII(sub) {
		n := len(sub)
		for i := 0; i+n <= len(s); i++ {
			if asciiFoldEqual(s[i:i+n], sub) {
				return true
			}
		}
		return false
	}
	return strings.Contains(foldString(s), foldString(sub))
}

func asciiFoldEqual(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// foldString maps s to a form that is the same for two strings exactly when
// strings.EqualFold holds for them: each rune becomes the smallest rune of
// its case-folding orbit.
func foldString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return asciiUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// asciiUpper upper-cases ASCII letters, allocating only when s has a lower
// case letter.
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'a' <= c && c <= 'z' {
					b[j] = c - 'a' + 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// hostname checks a domain name taken from an address: letters, digits,
// dots, hyphens and underscores, or any non-ASCII letter (internationalised
// names), at most 253 bytes. It returns the name in lower case, without a
// final dot.
func hostname(h string) (string, bool) {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return "", false
	}
	for _, r := range h {
		switch {
		case r == '.' || r == '-' || r == '_':
		case r < utf8.RuneSelf && (r >= '0' && r <= '9' || r|0x20 >= 'a' && r|0x20 <= 'z'):
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
		default:
			return "", false
		}
	}
	return strings.ToLower(h), true
}

// libEmailDomain returns the domain of an email address, "alice@example.com"
// or "Alice <alice@example.com>", in lower case.
func libEmailDomain(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = s[i+1 : len(s)-1]
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return nil, nil
	}
	if h, ok := hostname(s[at+1:]); ok {
		return h, nil
	}
	return nil, nil
}

// libURLDomain returns the host of a URL, with or without a scheme, in
// lower case and without port or user.
func libURLDomain(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") && !strings.HasPrefix(s, "//") {
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, nil
	}
	h := u.Hostname()
	if strings.Contains(h, ":") {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.WithZone("").String(), nil
		}
		return nil, nil
	}
	if h, ok := hostname(h); ok {
		return h, nil
	}
	return nil, nil
}

// ---- Decoding ----

// libParseJSON decodes JSON text into a value, as events are decoded; a
// value that is a map or list already is returned as it is.
func libParseJSON(args ...any) (any, error) {
	switch x := args[0].(type) {
	case string:
		d := fastDecoder{data: []byte(x)}
		d.ws()
		if d.pos >= len(d.data) {
			return nil, nil
		}
		v := d.value()
		d.ws()
		if d.err != nil || d.pos < len(d.data) {
			return nil, nil
		}
		return v, nil
	case map[string]any, []any:
		return x, nil
	}
	return nil, nil
}

// libB64Decode decodes base64 in the standard or URL alphabet, with or
// without padding, into text.
func libB64Decode(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	s = strings.TrimSpace(s)
	std, urlSafe := !strings.ContainsAny(s, "-_"), !strings.ContainsAny(s, "+/")
	padded := strings.HasSuffix(s, "=")
	var enc *base64.Encoding
	switch {
	case std && padded:
		enc = base64.StdEncoding
	case std:
		enc = base64.RawStdEncoding
	case urlSafe && padded:
		enc = base64.URLEncoding
	case urlSafe:
		enc = base64.RawURLEncoding
	default:
		return nil, nil
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, nil
	}
	return string(b), nil
}

// ---- Time ----

// timeOf reads a time: a time value, RFC 3339 text with any offset,
// Panther's "2006-01-02 15:04:05.000", or epoch seconds or milliseconds,
// as event times are read.
func timeOf(v any) (time.Time, bool) {
	if t, ok := v.(time.Time); ok {
		return t, true
	}
	return parseEventTime(v)
}

func libParseTime(args ...any) (any, error) {
	if t, ok := timeOf(args[0]); ok {
		return t.UTC(), nil
	}
	return nil, nil
}

// zoned reads the time of args[0] in the zone named by args[1], UTC when
// there is none.
func zoned(args []any) (time.Time, bool) {
	t, ok := timeOf(args[0])
	if !ok {
		return time.Time{}, false
	}
	if len(args) < 2 {
		return t.UTC(), true
	}
	name, ok := args[1].(string)
	if !ok {
		return time.Time{}, false
	}
	loc, ok := timeZone(name)
	if !ok {
		return time.Time{}, false
	}
	return t.In(loc), true
}

func libHourOf(args ...any) (any, error) {
	if t, ok := zoned(args); ok {
		return t.Hour(), nil
	}
	return nil, nil
}

func libWeekdayOf(args ...any) (any, error) {
	if t, ok := zoned(args); ok {
		return t.Weekday().String(), nil
	}
	return nil, nil
}

func libDateOf(args ...any) (any, error) {
	if t, ok := zoned(args); ok {
		return t.Format(time.DateOnly), nil
	}
	return nil, nil
}

// maxZones bounds the time zone cache: zone names may come from events.
const maxZones = 1000

var (
	zones     sync.Map // name -> *time.Location, nil when unknown
	zoneCount atomic.Int64
)

// timeZone loads an IANA time zone ("Europe/Paris", "UTC") once.
func timeZone(name string) (*time.Location, bool) {
	if v, ok := zones.Load(name); ok {
		loc := v.(*time.Location)
		return loc, loc != nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	if zoneCount.Add(1) <= maxZones {
		zones.Store(name, loc)
	}
	return loc, loc != nil
}

// ---- Lookup tables ----

// libUnresolvedTable is never called: the compiler replaces every call of
// lookup and inLookup with one that holds its table.
func libUnresolvedTable(...any) (any, error) {
	return nil, errUnresolvedTable
}

var errUnresolvedTable = errors.New("detect: internal error: a lookup table was not resolved")

func rtLookup(args ...any) (any, error) {
	row, ok := args[0].(*Table).row(args[1])
	if !ok {
		return nil, nil
	}
	return row, nil
}

func rtInLookup(args ...any) (any, error) {
	_, ok := args[0].(*Table).row(args[1])
	return ok, nil
}

// ---- Compiling library calls ----

// libraryCall checks the constant arguments of a library call, and
// compiles those that are costly to prepare (patterns, networks, sets)
// once, into an internal form of the call that holds them. A call with
// the wrong number of arguments is left for the checker to report.
func (rw *rewriter) libraryCall(name string, n *ast.CallNode) ast.Node {
	args := n.Arguments
	loc := n.Location()
	fail := func(at ast.Node, format string, a ...any) ast.Node {
		rw.err = &file.Error{Location: at.Location(), Message: fmt.Sprintf(format, a...)}
		return n
	}
	switch name {
	case "lookup", "inLookup":
		if len(args) != 2 {
			return n
		}
		s, ok := args[0].(*ast.StringNode)
		if !ok {
			return fail(args[0], "%s: the table name must be a string literal", name)
		}
		t, ok := rw.funcs.Table(s.Value)
		if !ok {
			known := "no table is registered"
			if names := rw.funcs.tableNames(); len(names) > 0 {
				known = "the tables are " + strings.Join(names, ", ")
			}
			return fail(s, "unknown lookup table %q: %s", s.Value, known)
		}
		internal := fnLookup
		if name == "inLookup" {
			internal = fnInLookup
		}
		return call(loc, internal, constant(s.Location(), t), args[1])

	case "glob", "inCIDR", "equalFold":
		if len(args) != 2 {
			return n
		}
		list, nodes, ok := constantStrings(args[1])
		if !ok {
			return n
		}
		for i, v := range list {
			if _, isStr := v.(string); !isStr {
				return fail(nodes[i], "%s: want a string, got %s", name, typeName(v))
			}
		}
		at := args[1].Location()
		switch name {
		case "glob":
			set := make(globList, len(list))
			for i, v := range list {
				set[i] = compileGlob(v.(string))
			}
			return call(loc, fnGlobSet, args[0], constant(at, set))
		case "inCIDR":
			set := make(cidrSet, len(list))
			for i, v := range list {
				p, err := parseCIDR(v.(string))
				if err != nil {
					return fail(nodes[i], "inCIDR: %q is not a network or an IP address", v)
				}
				set[i] = p
			}
			return call(loc, fnCIDRSet, args[0], constant(at, set))
		case "equalFold":
			if len(list) < 2 {
				// strings.EqualFold does not allocate; one string
				// needs no set.
				return n
			}
			strs := make([]string, len(list))
			for i, v := range list {
				strs[i] = v.(string)
			}
			return call(loc, fnInFoldSet, args[0], constant(at, newFoldSet(strs)))
		}

	case "hourOf", "weekdayOf", "dateOf":
		if len(args) != 2 {
			return n
		}
		if s, ok := args[1].(*ast.StringNode); ok {
			if _, ok := timeZone(s.Value); !ok {
				return fail(s, "%s: unknown time zone %q (want an IANA name such as Europe/Paris, or UTC)", name, s.Value)
			}
		}
	}
	return n
}

// constantStrings returns the values of a string literal or of a list of
// literals, and the nodes that hold them; ok is false when the value is
// known only when the rule runs.
func constantStrings(n ast.Node) (values []any, nodes []ast.Node, ok bool) {
	if s, isStr := n.(*ast.StringNode); isStr {
		return []any{s.Value}, []ast.Node{s}, true
	}
	arr, isArr := n.(*ast.ArrayNode)
	if !isArr {
		return nil, nil, false
	}
	values, ok = literalList(arr)
	return values, arr.Nodes, ok
}
