package detect_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/detectkit/detect"
)

// ind writes an indicator compactly for the table below:
// "field kind [values] req" with "!" before kind when negated and "~"
// when ignoring case.
func ind(in detect.Indicator) string {
	kind := in.Kind
	if in.IgnoreCase {
		kind = "~" + kind
	}
	if in.Negated {
		kind = "!" + kind
	}
	vals, _ := json.Marshal(in.Values)
	req := "opt"
	if in.Required {
		req = "req"
	}
	return fmt.Sprintf("%s %s %s %s", in.Field, kind, vals, req)
}

func TestLogic(t *testing.T) {
	fns := detect.NewFunctions()
	if err := fns.Define("ok", `status == "SUCCESS"`); err != nil {
		t.Fatal(err)
	}
	if err := fns.Define("both", `ok() && user != nil`); err != nil {
		t.Fatal(err)
	}
	admins, err := detect.NewTable("admins", "email")
	if err != nil {
		t.Fatal(err)
	}
	if err := fns.AddTable(admins); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cond       string
		conditions []string
		indicators []string
	}{
		{`status == "SUCCESS" && action == "RevokeUserSessions"`,
			[]string{`status eq "SUCCESS"`, `action eq "RevokeUserSessions"`},
			[]string{`status eq ["SUCCESS"] req`, `action eq ["RevokeUserSessions"] req`}},
		// Definitions are written out, the conjuncts of theirs too.
		{`both() && action in ["A", "B"]`,
			[]string{`status eq "SUCCESS"`, `user exists`, `action eq ["A", "B"]`},
			[]string{`status eq ["SUCCESS"] req`, `user exists [] req`, `action eq ["A","B"] req`}},
		// An || of one field's equalities is one indicator.
		{`action == "A" || action == "B" || "C" == action`,
			[]string{`action eq ["A", "B", "C"]`},
			[]string{`action eq ["A","B","C"] req`}},
		// An || of different fields: neither is required.
		{`a == 1 || b > 2`,
			[]string{`a == 1 || b > 2`},
			[]string{`a eq [1] opt`, `b gt [2] opt`}},
		// What every side of an || needs, the whole needs.
		{`(a == "1" && b == "x") || (b == "x" && c == "2")`,
			[]string{`(a == "1" && b == "x") || (b == "x" && c == "2")`},
			[]string{`a eq ["1"] opt`, `b eq ["x"] req`, `c eq ["2"] opt`}},
		// Negations, and De Morgan.
		{`status != "FAILED" && !(x contains "y") && user == nil`,
			[]string{`status ne "FAILED"`, `x not contains "y"`, `user not exists`},
			[]string{`status !eq ["FAILED"] req`, `x !contains ["y"] req`, `user !exists [] req`}},
		{`!(a == "1" || b == "2")`,
			[]string{`!(a == "1" || b == "2")`},
			[]string{`a !eq ["1"] req`, `b !eq ["2"] req`}},
		{`!(a == "1" && b == "2")`,
			[]string{`!(a == "1" && b == "2")`},
			[]string{`a !eq ["1"] opt`, `b !eq ["2"] opt`}},
		{`action not in ["A"]`,
			[]string{`action ne "A"`},
			[]string{`action !eq ["A"] req`}},
		// Comparisons turned around, string predicates, regexps.
		{`5 < count && ua startsWith "curl" && path endsWith ".php" && host matches "^evil"`,
			[]string{`count gt 5`, `ua startswith "curl"`, `path endswith ".php"`, `host regex "^evil"`},
			[]string{`count gt [5] req`, `ua startswith ["curl"] req`, `path endswith [".php"] req`, `host regex ["^evil"] req`}},
		// Case folding, nested paths, $env.
		{`lower(user.name) == "root" && $env.type == "x" && equalFold(actor["login"], "bob") && upper(s ?? "") == "OPEN"`,
			[]string{`user.name ieq "root"`, `type eq "x"`, `actor.login ieq "bob"`, `s ieq "OPEN"`},
			[]string{`user.name ~eq ["root"] req`, `type eq ["x"] req`, `actor.login ~eq ["bob"] req`, `s ~eq ["OPEN"] req`}},
		// The library's predicates.
		{`inCIDR(sourceIP, ["10.0.0.0/8", "192.168.0.0/16"]) && !isPrivateIP(dst) && inLookup("admins", user.email) && glob(file, "*.exe")`,
			[]string{`sourceIP cidr ["10.0.0.0/8", "192.168.0.0/16"]`, `dst not isPrivateIP`, `user.email lookup "admins"`, `file glob "*.exe"`},
			[]string{`sourceIP cidr ["10.0.0.0/8","192.168.0.0/16"] req`, `dst !isPrivateIP [] req`, `user.email lookup ["admins"] req`, `file glob ["*.exe"] req`}},
		// Membership in a list field, and closures over lists.
		{`"admin" in actor.roles && any(events, .name == "login") && none(tags, # == "test") && all(items, .ok == true)`,
			[]string{`actor.roles contains "admin"`, `any(events, .name == "login")`, `none(tags, # == "test")`, `all(items, .ok == true)`},
			[]string{`actor.roles contains ["admin"] req`, `events[*].name eq ["login"] req`, `tags[*] !eq ["test"] opt`, `items[*].ok eq [true] opt`}},
		// Indexes, and a bare boolean field.
		{`items[0].id == "x" && enabled`,
			[]string{`items[0].id eq "x"`, `enabled eq true`},
			[]string{`items[0].id eq ["x"] req`, `enabled eq [true] req`}},
		// What is not a predicate on a field gives a line and no
		// indicator; a predicate inside it is not required.
		{`len(tags) > 2 && (x == "a" ? y == "b" : true)`,
			[]string{`len(tags) > 2`, `x == "a" ? y == "b" : true`},
			[]string{`x eq ["a"] opt`, `y eq ["b"] opt`}},
		{`true`, []string{`true`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			r, err := detect.Compile(&detect.Rule{Severity: detect.SeverityInfo, ID: "T", Condition: tt.cond}, detect.WithFunctions(fns))
			if err != nil {
				t.Fatal(err)
			}
			l, err := r.Logic()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Conditions, tt.conditions) {
				t.Errorf("Conditions = %q; want %q", l.Conditions, tt.conditions)
			}
			var got []string
			for _, in := range l.Indicators {
				got = append(got, ind(in))
			}
			if !reflect.DeepEqual(got, tt.indicators) {
				t.Errorf("Indicators =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.indicators, "\n  "))
			}
		})
	}
}

func TestLogicCompileError(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityInfo, ID: "Bad", Condition: `status ==`}
	if _, err := r.Logic(); err == nil {
		t.Fatal("Logic() of a rule that does not compile: no error")
	}
}

func TestOutputSources(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityInfo, ID: "T", Condition: "true", Fields: []detect.Field{
		{Name: "ip", Expr: "sourceIP"},
		{Name: "user", Expr: " user.name "},
		{Name: "first", Expr: "items[0].id"},
		{Name: "odd", Expr: `$env["odd name"]`},
		{Name: "computed", Expr: `lower(action)`},
	}}
	got := r.OutputSources()
	want := []detect.OutputSource{
		{Name: "ip", Source: "sourceIP", Path: true},
		{Name: "user", Source: "user.name", Path: true},
		{Name: "first", Source: "items[0].id", Path: true},
		{Name: "odd", Source: "odd name", Path: true},
		{Name: "computed", Source: "lower(action)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OutputSources() = %+v; want %+v", got, want)
	}
}

func ExampleRule_Logic() {
	r := detect.MustCompile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Wiz.Revoke.User.Sessions",
		Condition: `status == "SUCCESS" && action == "RevokeUserSessions"`,
	})
	l, _ := r.Logic()
	for _, c := range l.Conditions {
		fmt.Println(c)
	}
	fmt.Println(l.Indicators[1].Field, l.Indicators[1].Kind, l.Indicators[1].Values, l.Indicators[1].Required)
	// Output:
	// status eq "SUCCESS"
	// action eq "RevokeUserSessions"
	// action eq [RevokeUserSessions] true
}

func TestDescribeIndicator(t *testing.T) {
	fns := detect.NewFunctions()
	if err := fns.Register("hasWord", func(args ...any) (any, error) { return false, nil }, new(func(any, string) bool)); err != nil {
		t.Fatal(err)
	}
	if err := fns.DescribeIndicator("nope", nil); err == nil {
		t.Error("DescribeIndicator of an unregistered function: no error")
	}
	err := fns.DescribeIndicator("hasWord", func(args []any) (detect.Indicator, bool) {
		return detect.Indicator{Kind: "word", Values: []any{args[0]}}, true
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := detect.Compile(&detect.Rule{Severity: detect.SeverityInfo, ID: "T", Condition: `hasWord(msg ?? lower(other), "evil") && !hasWord(title, "test")`}, detect.WithFunctions(fns))
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Logic()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range l.Indicators {
		got = append(got, ind(in))
	}
	want := []string{`msg word ["evil"] req`, `title !word ["test"] req`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Indicators = %q; want %q", got, want)
	}
}
