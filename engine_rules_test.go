package detect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// A synthetic catalog shaped like Panther's: 50 log types, 20 rules each.
// Most rules test equality or membership of an action-like field, often
// with a status; some test substrings or regular expressions; a few match
// every event of their log type.

const (
	catalogTypes        = 50
	catalogRulesPerType = 20
)

var catalogActions = []string{
	"CreateUser", "DeleteUser", "UpdateUser", "Login", "Logout", "AssumeRole", "PutBucketPolicy",
	"DeleteBucket", "CreateAccessKey", "DeleteAccessKey", "AttachPolicy", "DetachPolicy", "StopLogging",
	"DeleteTrail", "UpdateTrail", "CreateKey", "DisableKey", "ScheduleKeyDeletion", "AuthorizeIngress",
	"RevokeIngress", "CreateVpc", "DeleteVpc", "ModifyInstance", "RunInstances", "TerminateInstances",
	"GetObject", "PutObject", "ListBuckets", "DescribeInstances", "GetCallerIdentity", "ConsoleLogin",
	"ResetPassword", "EnableMFA", "DisableMFA", "AddMember", "RemoveMember", "GrantRole", "RevokeRole",
	"ExportData", "ImportData",
}

// catalogType describes the field names one log type uses.
type catalogType struct {
	name, action, status, user string
}

func catalogTypesList() []catalogType {
	actions := []string{"action", "eventName", "eventType", "operation", "event.action"}
	statuses := []string{"status", "outcome.result", "result", "responseStatus"}
	users := []string{"user.name", "actor.alternateId", "principal", "userIdentity.userName"}
	out := make([]catalogType, catalogTypes)
	for i := range out {
		out[i] = catalogType{
			name:   fmt.Sprintf("Vendor%02d.Audit", i),
			action: actions[i%len(actions)],
			status: statuses[i%len(statuses)],
			user:   users[i%len(users)],
		}
	}
	return out
}

func catalogRules() []*detect.Rule {
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func() string { return catalogActions[rng.IntN(len(catalogActions))] }
	var rules []*detect.Rule
	for _, ct := range catalogTypesList() {
		for j := 0; j < catalogRulesPerType; j++ {
			var cond string
			switch k := rng.IntN(100); {
			case k < 35:
				cond = fmt.Sprintf(`%s == %q`, ct.action, pick())
			case k < 60:
				cond = fmt.Sprintf(`%s == %q && %s == "SUCCESS"`, ct.action, pick(), ct.status)
			case k < 80:
				cond = fmt.Sprintf(`%s in [%q, %q, %q]`, ct.action, pick(), pick(), pick())
			case k < 88:
				cond = fmt.Sprintf(`%s startsWith %q`, ct.action, pick()[:4])
			case k < 92:
				cond = fmt.Sprintf(`%s contains "admin"`, ct.user)
			case k < 97:
				cond = fmt.Sprintf(`%s matches "^(%s|%s)$"`, ct.action, pick(), pick())
			default:
				cond = "true"
			}
			rules = append(rules, &detect.Rule{
				Severity:  detect.SeverityInfo,
				ID:        fmt.Sprintf("%s.Rule%02d", ct.name, j),
				LogTypes:  []string{ct.name},
				Condition: cond,
				GroupBy:   []string{"eid"},
			})
		}
	}
	return rules
}

// setPath sets a dotted path in a nested map.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// catalogEvents generates n events of the catalog's log types. With
// adversarial set, some events are bent in ways a prefilter or an index
// could get wrong: escaped values, odd letter case, duplicate keys,
// look-alike nested fields.
func catalogEvents(n int, seed uint64, adversarial bool) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	types := catalogTypesList()
	out := make([][]byte, 0, n)
	users := []string{"alice", "bob", "admin-carol", "svc-deploy", "Administrator"}
	for i := 0; i < n; i++ {
		ct := types[rng.IntN(len(types))]
		action := catalogActions[rng.IntN(len(catalogActions))]
		status := "SUCCESS"
		if rng.IntN(4) == 0 {
			status = "FAILURE"
		}
		ev := map[string]any{"eid": fmt.Sprintf("e%d", i), "p_log_type": ct.name,
			"p_event_time": "2024-07-31T10:00:00Z", "sourceIP": fmt.Sprintf("10.0.%d.%d", rng.IntN(256), rng.IntN(256)),
			"userAgent":         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
			"requestParameters": map[string]any{"bucketName": "logs-" + fmt.Sprint(rng.IntN(100)), "policy": `{"Version":"2012-10-17"}`}}
		setPath(ev, ct.action, action)
		setPath(ev, ct.status, status)
		setPath(ev, ct.user, users[rng.IntN(len(users))])
		b, err := json.Marshal(ev)
		if err != nil {
			panic(err)
		}
		s := string(b)
		if adversarial {
			leaf := ct.action[strings.LastIndex(ct.action, ".")+1:]
			switch rng.IntN(6) {
			case 0: // an escaped character in the value
				s = strings.Replace(s, `"`+action+`"`, `"\u00`+fmt.Sprintf("%x", action[0])+action[1:]+`"`, 1)
			case 1: // the field name in another letter case
				s = strings.Replace(s, `"`+leaf+`":`, `"`+strings.ToUpper(leaf)+`":`, 1)
			case 2: // a duplicate key: the later value wins
				other := catalogActions[rng.IntN(len(catalogActions))]
				s = strings.Replace(s, `"`+leaf+`":`, `"`+leaf+`":"`+other+`","`+leaf+`":`, 1)
			case 3: // a look-alike nested field holding another value
				other := catalogActions[rng.IntN(len(catalogActions))]
				s = s[:len(s)-1] + `,"detail":{"` + leaf + `":"` + other + `"}}`
			case 4: // the value in another field only
				s = strings.Replace(s, `"`+action+`"`, `"Other"`, 1)
				s = s[:len(s)-1] + `,"note":"` + action + `"}`
			}
		}
		out = append(out, []byte(s))
	}
	return out
}

// TestEngineCatalogDifferential checks that the engine, with its log-type
// routing and prefilters, finds exactly the matches that evaluating every
// rule one by one on the decoded event finds.
func TestEngineCatalogDifferential(t *testing.T) {
	rules := catalogRules()
	var mu sync.Mutex
	got := map[string]bool{}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		mu.Lock()
		got[a.RuleID+" "+a.Dedup] = true
		mu.Unlock()
		return nil
	})
	eng, err := detect.NewEngine(rules, detect.WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	// The same engine fed decoded events.
	gotMaps := map[string]bool{}
	engMaps, err := detect.NewEngine(rules, detect.WithSink(detect.AlertSinkFunc(func(a *detect.Alert) error {
		gotMaps[a.RuleID+" "+a.Dedup] = true
		return nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]*detect.Rule{}
	for _, r := range rules {
		byType[r.LogTypes[0]] = append(byType[r.LogTypes[0]], r)
	}
	want := map[string]bool{}
	events := append(catalogEvents(3000, 1, false), catalogEvents(3000, 2, true)...)
	for _, raw := range events {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("bad test event %s: %v", raw, err)
		}
		for _, r := range byType[m["p_log_type"].(string)] {
			ok, err := r.Evaluate(m)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				want[r.ID+" "+m["eid"].(string)] = true
			}
			// Rule by rule on the raw bytes too.
			if rawOK, err := r.EvaluateJSON(raw); err != nil || rawOK != ok {
				t.Errorf("%s: EvaluateJSON(%s) = %v, %v; decoded event gives %v", r.ID, raw, rawOK, err, ok)
			}
		}
		if err := eng.Process(raw); err != nil {
			t.Fatal(err)
		}
		if err := engMaps.ProcessMap(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := engMaps.Flush(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, gotMaps) {
		t.Errorf("the engine gives %d alerts from raw events and %d from decoded ones", len(got), len(gotMaps))
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("engine vs rule by rule: %d missing, %d extra; first missing %v, first extra %v",
			len(missing), len(extra), first(missing), first(extra))
	}
	if len(want) < 1000 {
		t.Errorf("only %d matches in the test stream; the catalog should match more", len(want))
	}
}

func first(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// BenchmarkEngineRules compares the engine running the 1,000-rule catalog
// with the engine running one rule, over the same stream of events of the
// catalog's 50 log types. ns/op is per event.
func BenchmarkEngineRules(b *testing.B) {
	events := catalogEvents(5000, 3, false)
	discard := detect.AlertSinkFunc(func(*detect.Alert) error { return nil })
	noGroup := func(rs []*detect.Rule) []*detect.Rule {
		for _, r := range rs {
			r.GroupBy = nil // keep the dedup table small: one group per rule
		}
		return rs
	}
	one := noGroup([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "One", Condition: `action == "DeleteUser" || eventName == "DeleteUser"`}})
	catalog := noGroup(catalogRules())
	// paired alternates the two engines over the same events and reports
	// the cost of 1,000 rules in units of one rule's.
	b.Run("paired", func(b *testing.B) {
		engOne, err := detect.NewEngine(one, detect.WithSink(discard))
		if err != nil {
			b.Fatal(err)
		}
		engAll, err := detect.NewEngine(catalog, detect.WithSink(discard))
		if err != nil {
			b.Fatal(err)
		}
		process := func(eng *detect.Engine) func(int) {
			return func(i int) {
				if err := eng.Process(events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
			}
		}
		paired(b, "rules=1", process(engOne), "rules=1000", process(engAll))
	})
	for _, bc := range []struct {
		name  string
		rules []*detect.Rule
	}{
		{"rules=1", one},
		{"rules=1000", catalog},
	} {
		b.Run(bc.name, func(b *testing.B) {
			eng, err := detect.NewEngine(bc.rules, detect.WithSink(discard))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := eng.Process(events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			eng, err := detect.NewEngine(bc.rules, detect.WithSink(discard))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var n sync.Mutex
			i := 0
			b.RunParallel(func(pb *testing.PB) {
				n.Lock()
				j := i
				i += 997
				n.Unlock()
				for pb.Next() {
					j++
					if err := eng.Process(events[j%len(events)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkEngineSample runs the built-in rules over the sample Wiz log
// (3,000 events of four log types, as the README's scan reads them) with
// Engine.Process, as detect scan does, against every event decoded in full
// first (ParseEvent, then ProcessEvent). ns/op is per event.
func BenchmarkEngineSample(b *testing.B) {
	data, err := os.ReadFile("examples/data/wiz_audit.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	discard := detect.AlertSinkFunc(func(*detect.Alert) error { return nil })
	engine := func() *detect.Engine {
		eng, err := detect.NewEngine(rules.All(), detect.WithSink(discard))
		if err != nil {
			b.Fatal(err)
		}
		return eng
	}
	process := func(eng *detect.Engine) func(int) {
		return func(i int) {
			if err := eng.Process(lines[i%len(lines)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	parseAll := func(eng *detect.Engine) func(int) {
		return func(i int) {
			ev, err := detect.ParseEvent(lines[i%len(lines)])
			if err != nil {
				b.Fatal(err)
			}
			if err := eng.ProcessEvent(ev, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, bc := range []struct {
		name string
		run  func(*detect.Engine) func(int)
	}{{"process", process}, {"parse-all", parseAll}} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.run(engine())
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f(i)
			}
		})
	}
	b.Run("paired", func(b *testing.B) {
		paired(b, "process", process(engine()), "parse-all", parseAll(engine()))
	})
}
