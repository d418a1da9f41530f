package detect

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestLeadingEqualities(t *testing.T) {
	tests := []struct {
		cond string
		want string // the equalities' paths and values
	}{
		{`action == "DeleteUser"`, `[action] [DeleteUser]`},
		{`"DeleteUser" == action`, `[action] [DeleteUser]`},
		{`event.action == "x" && status == "SUCCESS"`, `[event action] [x]; [status] [SUCCESS]`},
		{`action in ["B", "A", "B"] and status == "OK" && user.name startsWith "adm"`, `[action] [A B]; [status] [OK]`},
		{`status == "SUCCESS" && action in ["A", "B"]`, `[status] [SUCCESS]; [action] [A B]`},
		{`user != nil && severity != "LOW" && action == "x"`, `[action] [x]`},
		{`items[0].name == "x"`, `[items 0 name] [x]`},
		{`$env["action"] == "x"`, `[action] [x]`},
		{`action == "x" && int(count) > 0 && status == "y"`, `[action] [x]`}, // not past what may fail
		{`any(items, .n > 1) && action == "x"`, ``},
		{`int(count) > 0 && action == "x"`, ``},
		{`lower(action) == "x" && status == "y"`, ``},
		{`let a = int(count); action == "x" && a > 0`, ``},
		{`action == "x" || status == "y"`, ``},
		{`action != "x"`, ``},
		{`action == 1`, ``},
		{`action in ["a", 1]`, ``},
		{`action in []`, ``},
		{`action == status`, ``},
		{`true`, ``},
	}
	for _, tt := range tests {
		p, e := compileExpr(tt.cond, kindBool, nil)
		if e != nil {
			t.Fatalf("compile %s: %v", tt.cond, e.Msg)
		}
		var got []string
		for _, eq := range p.equal {
			got = append(got, fmt.Sprint(eq.path, " ", eq.values))
		}
		if g := strings.Join(got, "; "); g != tt.want {
			t.Errorf("%s: equalities %q; want %q", tt.cond, g, tt.want)
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
		`status == "x" && action == "G"`, // indexed by action, the field of more values
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
		{`{"action": "G", "status": "y"}`, []int{9, 10}},
		{`{"status": "x"}`, []int{8, 9}},
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
