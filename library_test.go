package detect

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone tests do not depend on the machine's zone files
)

// libraryEvent holds values for the functions of the built-in library.
const libraryEvent = `{
  "ip4": "10.1.2.3", "pub4": "8.8.8.8", "pub6": "2001:4860:4860::8888",
  "ula": "fd00::1", "mapped": "::ffff:10.1.2.3", "zoned": "fe80::1%eth0",
  "doc": "192.0.2.1", "cgnat": "100.64.1.1", "loop": "127.0.0.1", "loop6": "::1",
  "bad": "999.1.1.1", "withPort": "10.0.0.1:443", "num": 42, "flag": true,
  "nets": ["192.168.0.0/16", "10.0.0.0/8"], "badNets": ["nonsense", 7, "10.0.0.0/8"],
  "email": "Alice@Example.COM", "named": "Alice <alice@Mail.Example.com>",
  "url": "https://User@WWW.Example.com:8443/p?q=1", "bare": "example.org/path",
  "ipURL": "http://[2001:db8::1]:80/", "spaced": "not a url",
  "json": "{\"a\": {\"b\": [1, 2.5, \"x\"]}}", "badJSON": "{\"a\":", "jsonNum": "42",
  "obj": {"k": "v"},
  "b64": "aGVsbG8gd29ybGQ=", "b64raw": "aGVsbG8gd29ybGQ", "b64url": "Pz8_", "b64std": "Pz8/",
  "b64mixed": "Pz8_Pz8/", "b64bad": "a",
  "rfc": "2024-03-10T23:30:00-05:00", "panther": "2024-03-11 04:30:00.000",
  "secs": 1710131400, "millis": 1710131400000, "fsecs": 1710131400.5,
  "host": "DESKTOP-AB12CD", "path": "/usr/bin/curl", "pattern": "*/bin/*",
  "patterns": ["*.exe", "*/bin/*"], "action": "DeleteBucket", "Action": "x",
  "tz": "America/Los_Angeles", "badTZ": "Mars/Olympus"
}`

func libraryEnv(t testing.TB) map[string]any {
	t.Helper()
	env, err := decodeObject([]byte(libraryEvent))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// evalValue compiles and runs a value expression on env.
func evalValue(t testing.TB, source string, env map[string]any, funcs *Functions) any {
	t.Helper()
	p, e := compileCached(source, kindValue, funcs, Limits{}.withDefaults())
	if e != nil {
		t.Fatalf("compile %s: %s%s", source, e.Msg, e.at(source))
	}
	v, err := p.run(mapEnv(env))
	if err != nil {
		t.Fatalf("run %s: %v", source, err)
	}
	return v
}

var march11 = time.Date(2024, 3, 11, 4, 30, 0, 0, time.UTC)

func TestLibraryValues(t *testing.T) {
	tests := []struct {
		expr string
		want any
	}{
		// IP addresses.
		{`isIP(ip4) && isIP(pub6) && isIP(zoned) && isIP(mapped)`, true},
		{`isIP(bad) || isIP(withPort) || isIP(num) || isIP(missing) || isIP("")`, false},
		{`isIPv4(ip4) && !isIPv4(pub6) && !isIPv4(mapped) && !isIPv4(bad)`, true},
		{`isIPv6(pub6) && isIPv6(mapped) && isIPv6(zoned) && !isIPv6(ip4) && !isIPv6(bad)`, true},
		{`ipVersion(ip4)`, 4},
		{`ipVersion(pub6)`, 6},
		{`ipVersion(mapped)`, 6},
		{`ipVersion(bad)`, nil},
		{`ipVersion(missing)`, nil},
		{`isPrivateIP(ip4) && isPrivateIP(ula) && isPrivateIP(mapped) && isPrivateIP(cgnat) && isPrivateIP(loop) && isPrivateIP(loop6) && isPrivateIP(zoned)`, true},
		{`isPrivateIP(pub4) || isPrivateIP(pub6) || isPrivateIP(doc) || isPrivateIP(bad) || isPrivateIP(missing)`, false},
		{`isPublicIP(pub4) && isPublicIP(pub6) && isPublicIP("::ffff:8.8.8.8")`, true},
		{`isPublicIP(ip4) || isPublicIP(doc) || isPublicIP(cgnat) || isPublicIP(loop) || isPublicIP("224.0.0.1") || isPublicIP("0.0.0.0") || isPublicIP("255.255.255.255") || isPublicIP("2001:db8::1") || isPublicIP(bad)`, false},
		{`inCIDR(ip4, "10.0.0.0/8")`, true},
		{`inCIDR(ip4, "10.1.2.3")`, true},
		{`inCIDR(ip4, "10.1.2.4")`, false},
		{`inCIDR(ip4, "192.168.0.0/16")`, false},
		{`inCIDR(ip4, ["192.168.0.0/16", "10.0.0.0/8"])`, true},
		{`inCIDR(ip4, nets)`, true},
		{`inCIDR(ip4, badNets)`, true},
		{`inCIDR(pub4, nets)`, false},
		{`inCIDR(mapped, "10.0.0.0/8")`, true},
		{`inCIDR(ip4, "::ffff:10.0.0.0/104")`, true},
		{`inCIDR(pub6, "2001:4860::/32")`, true},
		{`inCIDR(ip4, "2001:4860::/32")`, false},
		{`inCIDR(zoned, "fe80::/10")`, true},
		{`inCIDR(bad, "0.0.0.0/0") || inCIDR(missing, "0.0.0.0/0") || inCIDR(num, "0.0.0.0/0")`, false},
		{`inCIDR(ip4, missing) || inCIDR(ip4, num) || inCIDR(ip4, action)`, false},
		{`inCIDR(ip4, "1.2.3.4") || inCIDR(ip4, ["1.2.3.4"])`, false},

		// Text.
		{`glob(path, "*/bin/*")`, true},
		{`glob(path, pattern)`, true},
		{`glob(path, ["*.exe", "/usr/*"])`, true},
		{`glob(path, patterns)`, true},
		{`glob(path, "*.exe")`, false},
		{`glob(host, "desktop-*")`, false},
		{`glob(missing, "*") || glob(num, "*") || glob(path, missing)`, false},
		{`equalFold(action, "deletebucket")`, true},
		{`equalFold(action, ["CreateBucket", "DELETEBUCKET"])`, true},
		{`equalFold(action, ["CreateBucket", "PutObject"])`, false},
		{`equalFold(action, Action)`, false},
		{`equalFold(missing, "x") || equalFold(num, "42") || equalFold(action, missing)`, false},
		{`containsFold(action, "BUCKET")`, true},
		{`containsFold(action, ["object", "delete"])`, true},
		{`containsFold(action, "Object")`, false},
		{`containsFold("Straße", "STRASSE")`, false},
		{`containsFold("KELVIN \u212A", "k")`, true},
		{`containsFold(missing, "") || containsFold(num, "4")`, false},
		{`emailDomain(email)`, "example.com"},
		{`emailDomain(named)`, "mail.example.com"},
		{`emailDomain("a@b@Example.org.")`, "example.org"},
		{`emailDomain("no-at-sign")`, nil},
		{`emailDomain("@example.com")`, nil},
		{`emailDomain("a@exa mple.com")`, nil},
		{`emailDomain("a@")`, nil},
		{`emailDomain(missing)`, nil},
		{`emailDomain(num)`, nil},
		{`urlDomain(url)`, "www.example.com"},
		{`urlDomain(bare)`, "example.org"},
		{`urlDomain("Example.org:8080")`, "example.org"},
		{`urlDomain(ipURL)`, "2001:db8::1"},
		{`urlDomain("http://10.0.0.1/x")`, "10.0.0.1"},
		{`urlDomain(spaced)`, nil},
		{`urlDomain("https:///path")`, nil},
		{`urlDomain("")`, nil},
		{`urlDomain(missing)`, nil},
		{`urlDomain(num)`, nil},

		// Decoding.
		{`parseJSON(json).a.b[2]`, "x"},
		{`parseJSON(json).a.b[0]`, 1},
		{`parseJSON(json).a.b[1]`, 2.5},
		{`parseJSON(jsonNum)`, 42},
		{`parseJSON(badJSON)`, nil},
		{`parseJSON("")`, nil},
		{`parseJSON("{} x")`, nil},
		{`parseJSON(obj).k`, "v"},
		{`parseJSON(missing)`, nil},
		{`parseJSON(num)`, nil},
		{`b64decode(b64)`, "hello world"},
		{`b64decode(b64raw)`, "hello world"},
		{`b64decode(b64url)`, "???"},
		{`b64decode(b64std)`, "???"},
		{`b64decode(" " + b64 + "\n")`, "hello world"},
		{`b64decode(b64mixed)`, nil},
		{`b64decode(b64bad)`, nil},
		{`b64decode("!!!!")`, nil},
		{`b64decode("")`, ""},
		{`b64decode(missing)`, nil},
		{`b64decode(num)`, nil},

		// Time.
		{`parseTime(rfc)`, march11},
		{`parseTime(panther)`, march11},
		{`parseTime(secs)`, march11},
		{`parseTime(millis)`, march11},
		{`parseTime(fsecs)`, march11.Add(500 * time.Millisecond)},
		{`parseTime(parseTime(rfc))`, march11},
		{`parseTime("yesterday")`, nil},
		{`parseTime(missing)`, nil},
		{`parseTime(flag)`, nil},
		{`parseTime(rfc) == parseTime(secs)`, true},
		{`parseTime(rfc) < parseTime("2024-03-12T00:00:00Z")`, true},
		{`parseTime(missing) < parseTime(rfc)`, false},
		{`hourOf(rfc)`, 4},
		{`hourOf(secs, "America/New_York")`, 0},
		{`hourOf(secs, tz)`, 21},
		{`hourOf(secs, badTZ)`, nil},
		{`hourOf(secs, missing)`, nil},
		{`hourOf("garbage")`, nil},
		{`weekdayOf(rfc)`, "Monday"},
		{`weekdayOf(millis, "America/Los_Angeles")`, "Sunday"},
		{`weekdayOf(missing)`, nil},
		{`weekdayOf(rfc) in ["Saturday", "Sunday"]`, false},
		{`dateOf(rfc)`, "2024-03-11"},
		{`dateOf(rfc, "America/Los_Angeles")`, "2024-03-10"},
		{`dateOf(num)`, "1970-01-01"},
		{`dateOf(flag)`, nil},
	}
	env := libraryEnv(t)
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := evalValue(t, tt.expr, env, nil)
			if gt, ok := got.(time.Time); ok {
				if want, ok := tt.want.(time.Time); !ok || !gt.Equal(want) || gt.Location() != time.UTC {
					t.Errorf("%s = %v; want %v (UTC)", tt.expr, got, tt.want)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v; want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

// TestLibraryNeverFails calls every function of the library with missing
// data and values of every kind: each gives false or nil, never an error.
func TestLibraryNeverFails(t *testing.T) {
	values := []string{`missing`, `num`, `flag`, `bad`, `""`, `obj`, `nets`, `1.5`, `-1`, `nil`}
	seconds := map[string][]string{
		"inCIDR": {`nets`, `"10.0.0.0/8"`, `missing`, `num`},
		"glob":   {`"*"`, `patterns`, `missing`, `num`},
		"equalFold": {
			`"x"`, `["a", "b"]`, `missing`, `num`,
		},
		"containsFold": {`"x"`, `["a", "b"]`, `missing`, `num`},
		"hourOf":       {`tz`, `badTZ`, `missing`, `num`},
		"weekdayOf":    {`tz`, `missing`},
		"dateOf":       {`tz`, `missing`},
	}
	env := libraryEnv(t)
	names := make([]string, 0, len(library))
	for name := range library {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "lookup" || name == "inLookup" {
			continue // TestLookupExpressions
		}
		for _, v := range values {
			calls := []string{name + "(" + v + ")"}
			if second, ok := seconds[name]; ok {
				calls = calls[:0]
				if name == "hourOf" || name == "weekdayOf" || name == "dateOf" {
					calls = append(calls, name+"("+v+")")
				}
				for _, s := range second {
					calls = append(calls, name+"("+v+", "+s+")")
				}
			}
			for _, c := range calls {
				p, e := compileCached(c, kindValue, nil, Limits{}.withDefaults())
				if e != nil {
					if v == "nil" {
						continue // a literal nil where a string is declared
					}
					t.Errorf("%s does not compile: %s", c, e.Msg)
					continue
				}
				got, err := p.run(mapEnv(env))
				if err != nil {
					t.Errorf("%s: %v; want no error", c, err)
					continue
				}
				if (v == "missing" || strings.Contains(c, ", missing")) && got != nil && got != false {
					t.Errorf("%s = %#v; want false or nil", c, got)
				}
			}
		}
	}
}

func TestLibraryCompileErrors(t *testing.T) {
	fns := NewFunctions()
	admins, _ := NewTable("admins", "name")
	if err := fns.AddTable(admins); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cond         string
		line, column int
		contains     string
	}{
		{`isIP()`, 1, 1, "not enough arguments to call isIP"},
		{`isIP(a, b)`, 1, 1, "too many arguments to call isIP"},
		{`inCIDR(ip)`, 1, 1, "not enough arguments to call inCIDR"},
		{`inCIDR(ip, 8)`, 1, 12, "cannot use int as argument (type string) to call inCIDR"},
		{`inCIDR(ip, "10.0.0.0/33")`, 1, 12, `inCIDR: "10.0.0.0/33" is not a network`},
		{`inCIDR(ip, ["10.0.0.0/8", "x"])`, 1, 27, `inCIDR: "x" is not a network`},
		{`inCIDR(ip, ["10.0.0.0/8", 7])`, 1, 27, "inCIDR: want a string, got int"},
		{`glob(path, ["*.exe", true])`, 1, 22, "glob: want a string, got bool"},
		{`glob(path, 1.5)`, 1, 12, "cannot use float64 as argument (type string) to call glob"},
		{"action == \"x\" &&\n  hourOf(t, \"Mars/Olympus\") > 3", 2, 13, `unknown time zone "Mars/Olympus"`},
		{`weekdayOf(t, 1) == "Monday"`, 1, 14, "cannot use int as argument (type string) to call weekdayOf"},
		{`lookup("users", name) != nil`, 1, 8, `unknown lookup table "users": the tables are admins`},
		{`inLookup(table, name)`, 1, 10, "the table name must be a string literal"},
		{`inLookup("admins")`, 1, 1, "not enough arguments to call inLookup"},
		{`isCorporate(ip)`, 1, 1, "unknown function isCorporate"},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Lib", Condition: tt.cond}, WithFunctions(fns))
			ce, ok := err.(*CompileError)
			if !ok {
				t.Fatalf("Compile(%s) = %v; want a *CompileError", tt.cond, err)
			}
			if ce.Line != tt.line || ce.Column != tt.column || !strings.Contains(ce.Msg, tt.contains) {
				t.Errorf("Compile(%s) error at %d:%d %q; want %d:%d containing %q\n%v", tt.cond, ce.Line, ce.Column, ce.Msg, tt.line, tt.column, tt.contains, err)
			}
			if !strings.Contains(err.Error(), "^") {
				t.Errorf("Compile(%s) error has no caret:\n%v", tt.cond, err)
			}
		})
	}
	// Without a set, no table exists.
	_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.NoTables", Condition: `inLookup("admins", name)`})
	if err == nil || !strings.Contains(err.Error(), "no table is registered") {
		t.Errorf("Compile without tables = %v; want an unknown table error", err)
	}
}

// TestLibraryNamesAreFields checks that a field named like a library
// function is still read when the name is not called.
func TestLibraryNamesAreFields(t *testing.T) {
	r := &Rule{Severity: SeverityInfo, ID: "R.Fields", Condition: `glob == "x" && lookup.id == 1 && glob(glob, "x")`}
	got, err := r.Evaluate(`{"glob": "x", "lookup": {"id": 1}}`)
	if err != nil || !got {
		t.Errorf("Evaluate = %v, %v; want true, nil", got, err)
	}
}

// TestLibraryReserved checks that no set can redefine a library function.
func TestLibraryReserved(t *testing.T) {
	fns := NewFunctions()
	if err := fns.RegisterFunc("glob", func(string) bool { return true }); err == nil {
		t.Error("RegisterFunc(glob) succeeded; want an error")
	}
	if err := fns.Register("inCIDR", func(...any) (any, error) { return true, nil }); err == nil {
		t.Error("Register(inCIDR) succeeded; want an error")
	}
	if err := fns.Define("isIP", "true"); err == nil {
		t.Error("Define(isIP) succeeded; want an error")
	}
	if err := fns.Define("__get", "true"); err == nil {
		t.Error("Define(__get) succeeded; want an error")
	}
}

// TestLibraryConstantsCompiled checks that constant patterns, networks and
// sets are compiled with the rule.
func TestLibraryConstantsCompiled(t *testing.T) {
	for src, internal := range map[string]string{
		`glob(path, "*.exe")`:            fnGlobSet,
		`glob(path, ["*.exe", "*.dll"])`: fnGlobSet,
		`inCIDR(ip, "10.0.0.0/8")`:       fnCIDRSet,
		`equalFold(a, ["x", "y"])`:       fnInFoldSet,
	} {
		p, e := compileCached(src, kindBool, nil, Limits{}.withDefaults())
		if e != nil {
			t.Fatalf("%s: %s", src, e.Msg)
		}
		found := false
		for _, c := range p.prog.Constants {
			switch c.(type) {
			case globList, cidrSet, foldSet:
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no compiled constant in the program; want a call of %s", src, internal)
		}
	}
}

func TestFoldString(t *testing.T) {
	pairs := [][2]string{
		{"Admin", "aDMIN"}, {"K", "\u212A"}, {"s", "\u017F"}, {"Σ", "ς"}, {"ǅ", "ǆ"}, {"", ""},
	}
	for _, p := range pairs {
		if !strings.EqualFold(p[0], p[1]) {
			t.Fatalf("bad pair %q", p)
		}
		if foldString(p[0]) != foldString(p[1]) {
			t.Errorf("foldString(%q) = %q, foldString(%q) = %q; want equal", p[0], foldString(p[0]), p[1], foldString(p[1]))
		}
	}
	if foldString("ab") == foldString("abc") {
		t.Error("foldString does not tell ab from abc")
	}
}

// TestLibraryDifferential checks that conditions calling library functions
// give the same answers on raw JSON (prefilter, selective decoding) as on
// events decoded by encoding/json. The events match through values that
// are not in the raw text as the condition writes them (other letter case,
// base64, JSON inside a string, a lookup table), which a prefilter that
// looked into calls would wrongly reject.
func TestLibraryDifferential(t *testing.T) {
	fns := NewFunctions()
	roles := newTestTable(t, "roles", "user")
	if err := roles.Set(map[string]map[string]any{"u1": {"role": "admin"}}); err != nil {
		t.Fatal(err)
	}
	if err := fns.AddTable(roles); err != nil {
		t.Fatal(err)
	}
	conds := []string{
		`equalFold(action, "DELETEBUCKET")`,
		`equalFold(action, ["PutObject", "DELETEBUCKET"])`,
		`containsFold(action, "BUCKET") && status == "ok"`,
		`b64decode(data) == "admin"`,
		`b64decode(data) contains "adm"`,
		`parseJSON(payload).role == "admin"`,
		`parseJSON(payload).role in ["admin", "root"]`,
		`lookup("roles", user).role == "admin"`,
		`inLookup("roles", user) || action == "never"`,
		`urlDomain(url) == "example.com"`,
		`emailDomain(email) in ["example.com"]`,
		`glob(path, "*/BIN/*") || glob(path, ["*/bin/*", "*.exe"])`,
		`inCIDR(ip, "10.0.0.0/8") && action != "x"`,
		`isPrivateIP(ip) && hourOf(ts) == 4`,
		`weekdayOf(ts) == "Monday" && dateOf(ts) == "2024-03-11"`,
		`parseTime(ts) > parseTime("2024-01-01T00:00:00Z")`,
	}
	events := []string{
		`{"action": "deleteBucket", "status": "ok", "data": "YWRtaW4=", "payload": "{\"role\": \"admin\"}", "user": "u1",
		  "url": "https://EXAMPLE.com/x", "email": "a@Example.COM", "path": "/usr/bin/curl", "ip": "10.0.0.1", "ts": 1710131400}`,
		`{"ACTION": "DeleteBucket", "STATUS": "ok", "Data": "YWRtaW4", "PAYLOAD": "{\"role\":\"root\"}", "User": "u1",
		  "URL": "example.com", "Email": "b@example.com", "Path": "/BIN/sh", "IP": "::ffff:10.0.0.1", "TS": "2024-03-11T04:30:00Z"}`,
		`{"action": "PutObject", "status": "no", "data": "!!", "payload": "{", "user": "u2", "url": 5, "email": null,
		  "path": ["x"], "ip": "8.8.8.8", "ts": "never"}`,
		`{"action": "x", "status": "ok", "data": "YWRt", "payload": "[1]", "user": 1, "url": "https://example.org", "ts": 1710131400000}`,
		`{}`,
	}
	matched := map[string]bool{}
	for _, src := range conds {
		r := MustCompile(&Rule{Severity: SeverityInfo, ID: "R.Diff", Condition: src, Fields: []Field{{Name: "x", Expr: src}}}, WithFunctions(fns))
		for _, ev := range events {
			var m map[string]any
			if err := json.Unmarshal([]byte(ev), &m); err != nil {
				t.Fatal(err)
			}
			dec, decErr := r.Evaluate(m)
			raw, rawErr := r.EvaluateJSON([]byte(ev))
			parsed, err := ParseEvent([]byte(ev))
			if err != nil {
				t.Fatal(err)
			}
			viaEvent, evErr := r.Evaluate(parsed)
			match, matchErr := r.Match([]byte(ev))
			if decErr != nil || rawErr != nil || evErr != nil || matchErr != nil {
				t.Errorf("%s on %s: errors %v, %v, %v, %v; want none", src, ev, decErr, rawErr, evErr, matchErr)
				continue
			}
			if raw != dec || viaEvent != dec || (match != nil) != dec {
				t.Errorf("%s on %s: decoded %v, raw %v, *Event %v, Match %v", src, ev, dec, raw, viaEvent, match != nil)
			}
			if dec {
				matched[src] = true
			}
		}
	}
	for _, src := range conds {
		if !matched[src] {
			t.Errorf("%s matches none of the events; the test cannot tell the paths apart", src)
		}
	}
}

func TestFoldedLookup(t *testing.T) {
	m := map[string]int{foldString("Alice"): 1, foldString("Σίσυφος"): 2, foldString(strings.Repeat("x", 100)): 3}
	for key, want := range map[string]int{"alice": 1, "ALICE": 1, "σίσυφοσ": 2, strings.Repeat("X", 100): 3, "bob": 0} {
		if got, _ := foldedLookup(m, key); got != want {
			t.Errorf("foldedLookup(%q) = %d; want %d", key, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { foldedLookup(m, "aLiCe") }); n != 0 {
		t.Errorf("foldedLookup of a short ASCII key allocates %v times; want 0", n)
	}
}

// TestLibraryPredicates checks that the functions said to return booleans
// are those whose signatures all do.
func TestLibraryPredicates(t *testing.T) {
	for name, f := range library {
		all := true
		for _, typ := range f.types {
			all = all && reflect.TypeOf(typ).Elem().Out(0).Kind() == reflect.Bool
		}
		if all != libraryPredicates[name] {
			t.Errorf("%s: every signature returns a boolean: %v; libraryPredicates says %v", name, all, libraryPredicates[name])
		}
	}
}
