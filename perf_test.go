package detect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	jsoniter "github.com/json-iterator/go"
)

// benchActions are Wiz audit actions: mostly benign reads and writes, plus
// the ones Wiz rules watch.
var benchActions = []string{
	"GetIssues", "ListUsers", "UpdateIssue", "CreateReport", "Login", "GetCloudResources",
	"ListProjects", "CreateSavedGraphQuery", "UpdateUserPreferences", "GetGraphSearch",
	"CreateUser", "DeleteUser", "UpdateUser", "CreateServiceAccount", "DeleteServiceAccount",
	"UpdateSAMLIdentityProvider", "UpdateLoginSettings", "UpdateScannerSettings",
	"DeleteCloudConfigurationRule", "UpdateCloudEventRule", "CreateIgnoreRule",
	"RotateServiceAccountSecret", "UpdateIPRestrictions", "DeleteIntegration",
	"UpdateConnector", "DeleteDataClassifier", "UpdateSupportContactList",
}

// wizStream returns n realistic Wiz audit events as JSON, one in a hundred
// a successful RevokeUserSessions (the Wiz rule's match), the others all
// kinds of actions, successes and failures.
func wizStream(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		action := benchActions[rng.IntN(len(benchActions))]
		status := "SUCCESS"
		if rng.IntN(5) == 0 {
			status = "FAILED"
		}
		if i%100 == 0 {
			action, status = "RevokeUserSessions", "SUCCESS"
		}
		actor := fmt.Sprintf(`"serviceAccount": null, "user": {"id": "user%d@company.com", "name": "User %d"}`, rng.IntN(50), rng.IntN(50))
		if rng.IntN(3) == 0 {
			actor = fmt.Sprintf(`"serviceAccount": {"id": "sa-%d", "name": "automation-%d"}, "user": null`, rng.IntN(20), rng.IntN(20))
		}
		out[i] = fmt.Appendf(nil, `{"id": "%08x-e83d-46e2-814a-6cebc47acf97", "action": %q, "requestId": "%08x-2c85-4c2d-b0f9-d4a4307ea8a7", `+
			`"status": %q, "timestamp": "2024-07-31T17:%02d:%02d.239928Z", "actionParameters": {"input": {"id": "%d", "filterBy": {"status": ["OPEN", "IN_PROGRESS"], "severity": ["HIGH", "CRITICAL"]}}, `+
			`"selection": ["__typename", "id", "name", {"nodes": ["__typename", "id", "status", "severity"]}]}, `+
			`"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", `+
			`"sourceIP": "%d.%d.%d.%d", %s, "p_log_type": "Wiz.Audit", "p_event_time": "2024-07-31T17:%02d:%02dZ"}`,
			rng.Uint32(), action, rng.Uint32(), status, i/60%60, i%60, rng.IntN(1000),
			rng.IntN(223)+1, rng.IntN(256), rng.IntN(256), rng.IntN(256), actor, i/60%60, i%60)
	}
	return out
}

// BenchmarkStream compares the Wiz rule over a stream of raw Wiz audit
// events with the baselines of the same run: what a user would write
// (encoding/json into a map, then expr.Run) and merely reading every byte
// of the event (json-iterator's Skip). ns/op is per event.
func BenchmarkStream(b *testing.B) {
	events := wizStream(1000)
	var size int64
	for _, e := range events {
		size += int64(len(e))
	}
	avg := size / int64(len(events))
	rule := rules.WizRevokeUserSessions
	prog, err := expr.Compile(naiveCondition, expr.AsBool())
	if err != nil {
		b.Fatal(err)
	}
	// One event each way; i numbers the event.
	naive := func(i int) {
		var m map[string]any
		if err := json.Unmarshal(events[i%len(events)], &m); err != nil {
			b.Fatal(err)
		}
		out, err := expr.Run(prog, m)
		if err != nil {
			b.Fatal(err)
		}
		sinkBool = out.(bool)
	}
	skip := func(i int) {
		it := jsoniter.ConfigDefault.BorrowIterator(events[i%len(events)])
		it.Skip()
		sinkBool = it.Error == nil
		jsoniter.ConfigDefault.ReturnIterator(it)
	}
	detect := func(i int) {
		ok, err := rule.EvaluateJSON(events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		sinkBool = ok
	}
	for _, v := range []struct {
		name string
		run  func(int)
	}{{"naive", naive}, {"skip", skip}, {"detect", detect}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(avg)
			for i := 0; i < b.N; i++ {
				v.run(i)
			}
		})
	}
	// The ratios, with the baselines alternating with detect.
	b.Run("paired-naive", func(b *testing.B) { paired(b, "detect", detect, "naive", naive) })
	b.Run("paired-skip", func(b *testing.B) { paired(b, "detect", detect, "skip", skip) })
	b.Run("detect-any", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(avg)
		for i := 0; i < b.N; i++ {
			ok, err := rule.Evaluate(events[i%len(events)])
			if err != nil {
				b.Fatal(err)
			}
			sinkBool = ok
		}
	})
}

// The Wiz rule's logic written out for expr as a user would, without
// detect's shared definitions.
const (
	naiveCondition = `status == "SUCCESS" && action == "RevokeUserSessions"`
	naiveActor     = `user != nil ? {"type": "user", "id": user.id, "name": user.name} : serviceAccount != nil ? {"type": "serviceAccount", "id": serviceAccount.id, "name": serviceAccount.name} : {"type": "unknown", "id": "unknown", "name": "unknown"}`
)

// BenchmarkMatchingEvent compares the full work on a matching event
// (condition, outputs, title, dedup string) with the naive baseline doing
// the same with encoding/json and expr.
func BenchmarkMatchingEvent(b *testing.B) {
	rule := rules.WizRevokeUserSessions
	seed, ok := rule.Tests[0].Log.([]byte)
	if !ok || !rule.Tests[0].ExpectedResult {
		b.Fatalf("the rule's first test is not a matching raw event")
	}
	for _, ev := range []struct {
		name string
		raw  []byte
	}{
		// The seed's RevokeUserSessions event, as Wiz logs it.
		{"seed", compactJSON(b, seed)},
		// The matching event of BenchmarkStream, whose action parameters
		// are a larger object (a GraphQL query's filters and selection).
		{"large", wizStream(1)[0]},
	} {
		b.Run(ev.name, func(b *testing.B) { benchMatching(b, rule, ev.raw) })
	}
}

// compactJSON returns data without insignificant white space.
func compactJSON(b *testing.B, data []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchMatching(b *testing.B, rule *detect.Rule, raw []byte) {
	naive := naiveMatch(b)
	base := func(int) { sinkAny = naive(raw) }
	matched := func(m *detect.Match, err error) {
		if err != nil || m == nil {
			b.Fatal(m, err)
		}
		sinkAny = m
	}
	// onBytes matches the bytes as they are (MatchJSON); onAny passes them
	// as an interface value (Match), which boxes the slice.
	onBytes := func(int) { matched(rule.MatchJSON(raw)) }
	onAny := func(int) { matched(rule.Match(raw)) }
	for _, v := range []struct {
		name string
		run  func(int)
	}{{"naive", base}, {"detect", onBytes}, {"detect-any", onAny}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v.run(i)
			}
		})
	}
	// paired alternates detect and the baseline in short rounds, so that
	// both see the same machine: on a shared machine, the speed of the
	// sub-benchmarks above drifts between them.
	b.Run("paired", func(b *testing.B) { paired(b, "detect", onBytes, "naive", base) })
	b.Run("paired-any", func(b *testing.B) { paired(b, "detect", onAny, "naive", base) })
}

// paired measures base and other alternately, in 8 rounds in which each
// runs for about 20 ms, and reports each one's time per call
// (baseName-ns/op and otherName-ns/op) and how many times base's time
// other's is ("otherName/baseName"). Both see the same state of a shared
// machine, whose speed drifts between sub-benchmarks run one after the
// other; the rounds are long enough that what one side leaves behind (its
// garbage, the caches it filled) weighs little on the other. The
// functions get the number of the call; b.N does not matter.
func paired(b *testing.B, baseName string, base func(i int), otherName string, other func(i int)) {
	const rounds, roundTime = 8, 20 * time.Millisecond
	// calls returns how many calls of f take about roundTime.
	calls := func(f func(int)) int {
		start := time.Now()
		n := 0
		for ; time.Since(start) < roundTime/10; n++ {
			f(n)
		}
		return n * 10
	}
	nBase, nOther := calls(base), calls(other)
	var tBase, tOther time.Duration
	for r := 0; r < rounds; r++ {
		start := time.Now()
		for i := 0; i < nBase; i++ {
			base(r*nBase + i)
		}
		tBase += time.Since(start)
		start = time.Now()
		for i := 0; i < nOther; i++ {
			other(r*nOther + i)
		}
		tOther += time.Since(start)
	}
	perBase := float64(tBase.Nanoseconds()) / float64(rounds*nBase)
	perOther := float64(tOther.Nanoseconds()) / float64(rounds*nOther)
	b.ReportMetric(perBase, baseName+"-ns/op")
	b.ReportMetric(perOther, otherName+"-ns/op")
	b.ReportMetric(perOther/perBase, otherName+"/"+baseName)
}

// naiveMatch returns the naive baseline of a match: encoding/json into a
// map, then one expr.Run per expression of the rule.
func naiveMatch(b *testing.B) func(raw []byte) any {
	{
		opts := []expr.Option{}
		cond, err := expr.Compile(naiveCondition, append(opts, expr.AsBool())...)
		if err != nil {
			b.Fatal(err)
		}
		title, _ := expr.Compile(`"[Wiz]: [" + action + "] action performed by " + (user != nil ? "user" : serviceAccount != nil ? "serviceAccount" : "unknown") + " [" + (user != nil ? user.name : serviceAccount != nil ? serviceAccount.name : "unknown") + "]"`)
		dedup, _ := expr.Compile(`id`)
		outs := []string{"action", naiveActor, "sourceIP", "id", "actionParameters"}
		progs := make([]any, len(outs))
		for i, o := range outs {
			p, err := expr.Compile(o)
			if err != nil {
				b.Fatal(err)
			}
			progs[i] = p
		}
		return func(raw []byte) any {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
			ok, _ := expr.Run(cond, m)
			if ok != true {
				b.Fatal("no match")
			}
			t, err := expr.Run(title, m)
			if err != nil {
				b.Fatal(err)
			}
			d, _ := expr.Run(dedup, m)
			res := map[string]any{}
			for j, p := range progs {
				res[outs[j]], _ = expr.Run(p.(*vm.Program), m)
			}
			return []any{t, d, res}
		}
	}
}

var _ = detect.SeverityInfo
