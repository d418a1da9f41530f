package detect

import (
	"reflect"
	"testing"
)

func TestLeadingEquality(t *testing.T) {
	tests := []struct {
		cond   string
		path   []any
		values []string
	}{
		{`action == "DeleteUser"`, []any{"action"}, []string{"DeleteUser"}},
		{`"DeleteUser" == action`, []any{"action"}, []string{"DeleteUser"}},
		{`event.action == "x" && status == "SUCCESS"`, []any{"event", "action"}, []string{"x"}},
		{`action in ["B", "A", "B"] and status == "OK" && user.name startsWith "adm"`, []any{"action"}, []string{"A", "B"}},
		{`items[0].name == "x"`, []any{"items", 0, "name"}, []string{"x"}},
		{`any(items, .n > 1) && action == "x"`, nil, nil}, // the closure comes first
		{`int(count) > 0 && action == "x"`, nil, nil},     // may fail before the equality
		{`let a = int(count); action == "x" && a > 0`, nil, nil},
		{`action == "x" || status == "y"`, nil, nil},
		{`action != "x"`, nil, nil},
		{`action == 1`, nil, nil},
		{`action in ["a", 1]`, nil, nil},
		{`action in []`, nil, nil},
		{`lower(action) == "x"`, nil, nil},
		{`action == status`, nil, nil},
		{`true`, nil, nil},
		{`$env["action"] == "x"`, []any{"action"}, []string{"x"}},
	}
	for _, tt := range tests {
		p, e := compileExpr(tt.cond, kindBool, nil)
		if e != nil {
			t.Fatalf("compile %s: %v", tt.cond, e.Msg)
		}
		if tt.path == nil {
			if p.equal != nil {
				t.Errorf("%s: equality %v in %v; want none", tt.cond, p.equal.values, p.equal.path)
			}
			continue
		}
		if p.equal == nil || !reflect.DeepEqual(p.equal.path, tt.path) || !reflect.DeepEqual(p.equal.values, tt.values) {
			t.Errorf("%s: equality = %+v; want %v in %v", tt.cond, p.equal, tt.values, tt.path)
		}
	}
}

// TestRuleSetIndex checks which rules an indexed set selects, with the
// reads of a condition: case-insensitive names, nested fields, and values
// of other types.
func TestRuleSetIndex(t *testing.T) {
	var rules []*Rule
	for i, c := range []string{
		`action == "A"`, `action == "B"`, `action in ["A", "C"]`, `actor.type == "user"`, `action == "A" && status == "x"`,
		`action == "D"`, `action == "E"`, `action == "F"`, `status == "x"`, `true`,
	} {
		rules = append(rules, &Rule{ID: string(rune('a' + i)), Condition: c})
	}
	set := newRuleSet(rules, newFieldSet(LogTypeField))
	if set.index == nil {
		t.Fatal("the set is not indexed")
	}
	for _, tt := range []struct {
		event string
		want  []int // the rules evaluated
	}{
		{`{"action": "A"}`, []int{0, 2, 4, 9}},
		{`{"ACTION": "C", "actor": {"Type": "user"}}`, []int{2, 3, 9}},
		{`{"action": 1, "actor": "user"}`, []int{9}},
		{`{"action": "a"}`, []int{9}},
		{`{}`, []int{9}},
	} {
		env := mustDecode(t, tt.event)
		cand := set.candidates(env)
		var got []int
		for i, r := range set.rules {
			if !r.indexed || cand.has(i) {
				got = append(got, i)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: rules %v evaluated; want %v", tt.event, got, tt.want)
		}
	}
}

func TestBitset(t *testing.T) {
	for _, n := range []int{1, 64, 128, 129, 1000} {
		b := newBitset(n)
		for i := 0; i < n; i += 3 {
			b.set(i)
		}
		for i := 0; i < n; i++ {
			if b.has(i) != (i%3 == 0) {
				t.Fatalf("n=%d: has(%d) = %v", n, i, b.has(i))
			}
		}
	}
}
