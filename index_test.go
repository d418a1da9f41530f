package detect

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
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
		p, e := compileExpr(tt.cond, kindBool, nil, Limits{}.withDefaults())
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
		rules = append(rules, &Rule{Severity: SeverityInfo, ID: string(rune('a' + i)), Condition: c})
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

// TestEngineIndexInHead checks that Process, which looks top-level indexed
// fields up before decoding the event for its rules, and nested ones after,
// raises the alerts of ProcessEvent on fully decoded events, with the same
// counters.
func TestEngineIndexInHead(t *testing.T) {
	var rules []*Rule
	for i := range 10 {
		rules = append(rules,
			&Rule{Severity: SeverityInfo, ID: fmt.Sprintf("Top.%d", i), LogTypes: []string{"T.Top"}, Condition: fmt.Sprintf(`action == "A%d" && user.name != "skip"`, i), Fields: []Field{{Name: "who", Expr: "user"}}},
			&Rule{Severity: SeverityInfo, ID: fmt.Sprintf("Nested.%d", i), LogTypes: []string{"T.Nested"}, Condition: fmt.Sprintf(`detail.eventName == "E%d"`, i), Fields: []Field{{Name: "detail", Expr: "detail"}}})
	}
	rules = append(rules, &Rule{Severity: SeverityInfo, ID: "Any", Condition: `action startsWith "A1" || user == nil`})
	var events [][]byte
	for i := range 400 {
		a, e := i%12, i%13
		switch i % 5 {
		case 0:
			events = append(events, fmt.Appendf(nil, `{"p_log_type": "T.Top", "action": "A%d", "user": {"name": "u%d"}}`, a, i))
		case 1:
			events = append(events, fmt.Appendf(nil, `{"p_log_type": "T.Top", "ACTION": "A%d", "action": "\u0041%d", "user": null}`, a, a))
		case 2:
			events = append(events, fmt.Appendf(nil, `{"p_log_type": "T.Nested", "detail": {"eventName": "E%d", "x": [1, {"eventName": "E1"}]}}`, e))
		case 3:
			events = append(events, fmt.Appendf(nil, `{"p_log_type": "T.Nested", "Detail": {"EVENTNAME": "E%d"}, "action": "A%d"}`, e, a))
		default:
			events = append(events, fmt.Appendf(nil, `{"p_log_type": "T.Top", "action": "A%d", "action": "B", "detail": {"eventName": "E%d"}}`, a, e))
		}
	}
	run := func(process func(*Engine, []byte) error) ([]string, EngineStats) {
		var alerts []string
		eng, err := NewEngine(rules, WithSink(AlertSinkFunc(func(a *Alert) error {
			b, err := a.MarshalJSON()
			alerts = append(alerts, string(b))
			return err
		})), WithClock(func() time.Time { return time.Unix(0, 0) }))
		if err != nil {
			t.Fatal(err)
		}
		if !eng.byType["T.Top"].indexInHead || eng.byType["T.Nested"].indexInHead || eng.byType["T.Nested"].index == nil {
			t.Fatalf("index in head: T.Top %v, T.Nested %v", eng.byType["T.Top"].indexInHead, eng.byType["T.Nested"].indexInHead)
		}
		for _, ev := range events {
			if err := process(eng, ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := eng.Flush(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(alerts)
		return alerts, eng.Stats()
	}
	got, gotStats := run(func(e *Engine, raw []byte) error { return e.Process(raw) })
	want, wantStats := run(func(e *Engine, raw []byte) error {
		ev, err := ParseEvent(raw)
		if err != nil {
			return err
		}
		return e.ProcessEvent(ev, "")
	})
	if gotStats.Matches == 0 || !reflect.DeepEqual(gotStats, wantStats) || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Process: %d alerts, %+v; ProcessEvent: %d alerts, %+v", len(got), gotStats, len(want), wantStats)
	}
}
