package detect

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSlotsAgreeWithMaps evaluates rules on raw events decoded into slots
// and on the same events decoded into maps, and requires the same
// matches: an exact key wins over keys that equal a name ignoring case,
// the smallest of those wins otherwise, the last of duplicate keys wins,
// and escaped keys count as what they decode to.
func TestSlotsAgreeWithMaps(t *testing.T) {
	rules := []*Rule{
		{
			Severity: SeverityInfo,
			ID:       "Slots.Fold", LogTypes: []string{"T"}, Condition: `action != nil || Action != nil || id == "x"`,
			Title: "{action}/{Action}/{ACTION}", GroupBy: []string{`id`},
			Fields: fields("a", "action", "b", "Action", "c", "ACTION", "id", "id", "user", "user.name", "n", "nAme"),
		},
		{
			Severity: SeverityInfo,
			ID:       "Slots.Path", LogTypes: []string{"T"}, Condition: `user.name startsWith "u" && status == "SUCCESS"`,
			Fields: fields("user", "user", "status", "STATUS"),
		},
		{
			Severity: SeverityInfo,
			// user is only lent: read as keys and compared with nil. A
			// name that is an object makes startsWith fail, and the VM
			// run again on the object decoded whole.
			ID: "Slots.Object", LogTypes: []string{"T"}, Condition: `user != nil && (user.name != nil && user.name startsWith "u" || user.ID < 3)`,
			Title: "{user.name}/{USER.Name}", Fields: fields("n", "user.name", "id", "user.ID", "x", "user.x"),
		},
	}
	for _, r := range rules {
		c, err := r.compiled()
		if err != nil {
			t.Fatal(err)
		}
		if !c.onSlots || !c.condOnSlots {
			t.Fatalf("%s is not evaluated on slots", r.ID)
		}
		if (c.objects != nil) != (r.ID != "Slots.Path") {
			t.Fatalf("%s: objects on slots = %v", r.ID, c.objects != nil)
		}
	}
	keys := []string{"action", "Action", "ACTION", "aCTION", `\u0061ction`, `Act\u0069on`, "actions",
		"id", "ID", "Id", "user", "USER", "status", "Status", "STATUS", "name", "NAME", "nAme", `\u212aey`, "other"}
	values := []string{`"x"`, `"u1"`, `"SUCCESS"`, `null`, `1`, `{"name": "u2"}`, `{"NAME": "v"}`, `[1, "a"]`, `"\u0041"`, `true`,
		// Objects with keys of every case, duplicates and escapes.
		`{"name": "a", "NAME": "b", "id": 1}`, `{"Name": "c", "name": "d", "name": "e", "ID": "2"}`, `{"n\u0061me": "f", "iD": 5}`,
		`{}`, `{"name": {"x": 1}, "x": [1]}`, `{"NAMe": null, "Id": 2, "id": "x"}`}
	rng := rand.New(rand.NewPCG(5, 6))
	events := 0
	for n := 0; n < 4000; n++ {
		var b strings.Builder
		b.WriteString("{")
		for i := range rng.IntN(8) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `"%s": %s`, keys[rng.IntN(len(keys))], values[rng.IntN(len(values))])
		}
		b.WriteString("}")
		raw := []byte(b.String())
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		events++
		for _, r := range rules {
			got, err := r.Match(raw)
			want, werr := r.Match(m)
			if c, _ := r.compiled(); !c.condition.filter.mayMatch(raw) {
				// Rejected by the prefilter, which may leave a rule error
				// of the decoded event unreported, never a match.
				if got != nil || err != nil || want != nil {
					t.Fatalf("%s on %s: prefiltered, Match = %s, %v; Match(map) = %s", r.ID, raw, summary(got), err, summary(want))
				}
				continue
			}
			if fmt.Sprint(err) != fmt.Sprint(werr) || summary(got) != summary(want) {
				t.Fatalf("%s on %s:\nslots %s, %v\nmap   %s, %v", r.ID, raw, summary(got), err, summary(want), werr)
			}
			if bytesGot, bytesErr := r.MatchJSON(raw); fmt.Sprint(bytesErr) != fmt.Sprint(err) || summary(bytesGot) != summary(got) {
				t.Fatalf("%s on %s:\nMatchJSON %s, %v\nMatch     %s, %v", r.ID, raw, summary(bytesGot), bytesErr, summary(got), err)
			}
			ok, err := r.EvaluateJSON(raw)
			if want == nil && werr == nil && (ok || err != nil) {
				t.Fatalf("%s on %s: EvaluateJSON = %v, %v; Match(map) did not match", r.ID, raw, ok, err)
			}
			if want != nil && !ok {
				t.Fatalf("%s on %s: EvaluateJSON = false, %v; Match(map) matched", r.ID, raw, err)
			}
		}
	}
	if events == 0 {
		t.Fatal("no events")
	}
}

// fields returns the outputs of name, expression pairs.
func fields(pairs ...string) []Field {
	var out []Field
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Field{Name: pairs[i], Expr: pairs[i+1]})
	}
	return out
}

// summary is what a Match says, as text to compare.
func summary(m *Match) string {
	if m == nil {
		return "no match"
	}
	out, err := json.Marshal(m.Outputs.Map())
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%q %q %s", m.Title, m.Dedup, out)
}

// TestSlotsLimit checks that a rule reading maxSlots fields is evaluated
// on slots, one reading more on a map, and that both give the answers of
// the decoded event.
func TestSlotsLimit(t *testing.T) {
	for _, n := range []int{maxSlots, maxSlots + 1} {
		var names, conds []string
		for i := range n {
			names = append(names, fmt.Sprintf("f%d", i))
			conds = append(conds, fmt.Sprintf("F%d != nil", i))
		}
		// The rule reads F0, F1...; the event's keys are f0, f1...
		r := &Rule{Severity: SeverityInfo, ID: fmt.Sprintf("Slots.Limit.%d", n), Condition: strings.Join(conds, " && "), Fields: fields("last", strings.ToUpper(names[n-1]))}
		c, err := r.compiled()
		if err != nil {
			t.Fatal(err)
		}
		if c.onSlots != (n <= maxSlots) {
			t.Fatalf("%d fields: onSlots = %v", n, c.onSlots)
		}
		var b strings.Builder
		for i, name := range names {
			fmt.Fprintf(&b, `,"%s":%d`, name, i)
		}
		raw := []byte("{" + b.String()[1:] + "}")
		m, err := r.Match(raw)
		if err != nil || m == nil {
			t.Fatalf("%d fields: Match = %v, %v", n, m, err)
		}
		if got := m.Outputs.Map()["last"]; got != n-1 {
			t.Fatalf("%d fields: output %v, want %d", n, got, n-1)
		}
		// The last of duplicate keys wins.
		dup := append(raw[:len(raw)-1:len(raw)-1], `,"f0":null}`...)
		if m, err := r.Match(dup); err != nil || m != nil {
			t.Fatalf("%d fields: with F0 null, Match = %v, %v", n, m, err)
		}
	}
}
