package detect

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"testing"
	"time"
)

// The worst evaluation: a generator of hostile expressions and events
// whose fields are as large as a line may be, timing every evaluation.
//
//	go test -run '^TestWorstEvaluation$' -worst 3000 -worst.size 15000000 -v .
//
// prints the slowest evaluations and the most memory one took; without
// -worst, a few hundred pairs run at a size fit for CI.
var (
	worstCount = flag.Int("worst", 0, "number of generated rule and event pairs TestWorstEvaluation times (0: a few hundred, small)")
	worstSize  = flag.Int("worst.size", 0, "bytes of the generated events' large fields (0: 256 KiB; at most MaxLineBytes)")
	worstSeed  = flag.Int64("worst.seed", 1, "seed of TestWorstEvaluation's generator")
)

// hostileExpr generates expressions from the functions whose work grows
// with their input, nested in closures over ranges and over the event's
// collections.
type hostileExpr struct {
	r *rand.Rand
}

func (g *hostileExpr) pick(choices ...string) string { return choices[g.r.Intn(len(choices))] }

// text is an expression of type string.
func (g *hostileExpr) text(depth int) string {
	if depth <= 0 {
		return g.pick("s", "u", "p", `"ab"`, "string(#)", "j")
	}
	d := depth - 1
	switch g.r.Intn(14) {
	case 0:
		return "lower(" + g.text(d) + ")"
	case 1:
		return "upper(" + g.text(d) + ")"
	case 2:
		return "(" + g.text(d) + " + " + g.text(d) + ")"
	case 3:
		return fmt.Sprintf("repeat(%s, %d)", g.text(d), g.pick2(2, 1000, 999999))
	case 4:
		return "replace(" + g.text(d) + `, "a", ` + g.text(d) + ")"
	case 5:
		return "trim(" + g.text(d) + ")"
	case 6:
		return "join(" + g.list(d) + `, ` + g.text(d) + ")"
	case 7:
		return "toJSON(" + g.list(d) + ")"
	case 8:
		return "string(" + g.list(d) + ")"
	case 9:
		return "(" + g.text(d) + ")[1:-1]"
	case 10:
		return "reduce(" + g.coll(d) + ", #acc + " + g.text(d) + `, "")`
	case 11:
		return "trimPrefix(" + g.text(d) + `, "Mo")`
	}
	return g.text(0)
}

func (g *hostileExpr) pick2(v ...int) int { return v[g.r.Intn(len(v))] }

// coll is a collection to iterate.
func (g *hostileExpr) coll(depth int) string {
	switch g.r.Intn(5) {
	case 0:
		return fmt.Sprintf("1..%d", g.pick2(10, 1000, 999999))
	case 1:
		return "a"
	case 2:
		return "o"
	case 3:
		return `["a", "b", "c", "d"]`
	}
	return g.list(depth)
}

// list is an expression of type list.
func (g *hostileExpr) list(depth int) string {
	if depth <= 0 {
		return g.pick("a", "o", "split(s, \"\")", "keys(m)", "values(m)", "fromJSON(j)", "1..999999")
	}
	d := depth - 1
	switch g.r.Intn(9) {
	case 0:
		return "split(" + g.text(d) + `, "")`
	case 1:
		return "map(" + g.coll(d) + ", " + g.text(d) + ")"
	case 2:
		return "filter(" + g.coll(d) + ", " + g.pred(d) + ")"
	case 3:
		return "sort(" + g.list(d) + ")"
	case 4:
		return "concat(" + g.list(d) + ", " + g.list(d) + ")"
	case 5:
		return "fromJSON(" + g.text(d) + ")"
	case 6:
		return "flatten(map(" + g.coll(d) + ", " + g.list(d) + "))"
	case 7:
		return "uniq(" + g.list(d) + ")"
	}
	return g.list(0)
}

// pred is a condition.
func (g *hostileExpr) pred(depth int) string {
	d := max(depth-1, 0)
	switch g.r.Intn(11) {
	case 0:
		return g.text(d) + ` contains "zzqq"`
	case 1:
		return g.text(d) + ` matches "` + hostileWords() + `"`
	case 2:
		return g.text(d) + " matches p"
	case 3:
		return "any(" + g.coll(d) + ", " + g.pred(d) + ")"
	case 4:
		return "all(" + g.coll(d) + ", " + g.pred(d) + ")"
	case 5:
		return "len(" + g.list(d) + ") == 3"
	case 6:
		return "len(" + g.text(d) + ") == 3"
	case 7:
		return g.text(d) + " == " + g.text(d)
	case 8:
		return g.text(d) + " in " + g.list(d)
	case 9:
		return "count(" + g.coll(d) + ", " + g.pred(d) + ") > 1"
	}
	return g.text(d) + ` startsWith "zz"`
}

// hostileFields are the fields of hostileEvent.
var hostileFields = []string{"s", "u", "p", "j", "a", "o", "m"}

// hostileEvent is an event whose field named large, of about size bytes,
// is what the generated expressions read: ASCII text (s), text whose
// runes grow when lowered (u), a pattern (p), a JSON document of tiny
// objects (j), a list of numbers (a) and of objects (o), or a wide
// object (m). Its other fields are small.
func hostileEvent(large string, size int) map[string]any {
	ev := map[string]any{"s": "Mozilla", "u": "İ", "p": "a+", "j": "[1]", "a": []any{1, 2}, "o": []any{}, "m": map[string]any{"k": 1}}
	switch large {
	case "s":
		ev["s"] = strings.Repeat("Mozilla/5.0 (X11; Linux) ", size/25)
	case "u":
		ev["u"] = strings.Repeat("İ", size/2)
	case "p":
		ev["p"] = strings.Repeat("(a|b?)*", min(size, MaxPatternBytes)/7)
	case "j":
		ev["j"] = "[" + strings.TrimSuffix(strings.Repeat("{},", size/3), ",") + "]"
	case "a":
		nums := make([]any, size/2)
		for i := range nums {
			nums[i] = i % 10
		}
		ev["a"] = nums
	case "o":
		objs := make([]any, size/3)
		for i := range objs {
			objs[i] = map[string]any{}
		}
		ev["o"] = objs
	case "m":
		wide := make(map[string]any, size/8)
		for i := 0; i < size/8; i++ {
			wide[fmt.Sprintf("k%06d", i)] = 0
		}
		ev["m"] = wide
	}
	return ev
}

// worstCase is the cost of one evaluation.
type worstCase struct {
	cond    string
	field   string
	elapsed time.Duration
	alloc   uint64 // bytes allocated by the evaluation
	peak    uint64 // the largest heap seen while it ran
	err     error
}

// TestWorstEvaluation evaluates generated hostile expressions on events
// with large fields and checks that each ends, in a value or a rule
// error, within a bound of time and memory; with -v it prints the worst.
func TestWorstEvaluation(t *testing.T) {
	n, size := *worstCount, *worstSize
	if n == 0 {
		n = 300
		if testing.Short() || raceEnabled {
			n = 50
		}
	}
	if size == 0 {
		size = 256 << 10
	}
	size = min(size, DefaultMaxLineBytes-1024)
	g := &hostileExpr{r: rand.New(rand.NewSource(*worstSeed))}
	var rules []*Rule
	seen := map[string]bool{}
	for tries := 0; len(rules) < n; tries++ {
		if tries > 100*n {
			t.Fatalf("%d of %d generated conditions compile", len(rules), tries)
		}
		cond := g.pred(1 + g.r.Intn(3))
		if seen[cond] {
			continue
		}
		seen[cond] = true
		// Types the checker rejects are not evaluations.
		if r, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Worst", Condition: cond}); err == nil {
			rules = append(rules, r)
		}
	}
	var cases []worstCase
	for _, field := range hostileFields {
		ev := hostileEvent(field, size)
		for _, r := range rules {
			cond := r.Condition
			c := measureEvaluation(r, ev)
			c.cond, c.field = cond, field
			if c.elapsed > time.Second {
				t.Logf("%v on a large %s: %.300s: %v", c.elapsed, field, cond, c.err)
			}
			var ee *EvalError
			if c.err != nil && !errors.As(c.err, &ee) {
				t.Errorf("Evaluate(%s) on a large %s: %v; want a value or a rule error", cond, c.field, c.err)
			}
			if ee != nil && strings.HasPrefix(ee.Msg, "panic: ") {
				t.Errorf("Evaluate(%s) on a large %s: %v", cond, c.field, c.err)
			}
			cases = append(cases, c)
		}
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].elapsed > cases[j].elapsed })
	var mostAlloc, mostPeak worstCase
	for _, c := range cases {
		if c.alloc > mostAlloc.alloc {
			mostAlloc = c
		}
		if c.peak > mostPeak.peak {
			mostPeak = c
		}
	}
	for _, c := range cases[:min(5, len(cases))] {
		t.Logf("slowest: %v, %d MiB allocated, heap %d MiB, on a large %s: %.200s: %v", c.elapsed, c.alloc>>20, c.peak>>20, c.field, c.cond, c.err)
	}
	t.Logf("most allocated: %d MiB in %v on a large %s: %.200s", mostAlloc.alloc>>20, mostAlloc.elapsed, mostAlloc.field, mostAlloc.cond)
	t.Logf("largest heap: %d MiB on a large %s: %.200s", mostPeak.peak>>20, mostPeak.field, mostPeak.cond)
	// At any size up to MaxLineBytes, on a 2-core machine shared with
	// other work, whose load can make a step several times slower: a
	// bound that catches a stall, well above the worst recorded in
	// docs/guarantees.md.
	if c := cases[0]; c.elapsed > 10*time.Second*slowdown() {
		t.Errorf("Evaluate(%s) on a large %s took %v", c.cond, c.field, c.elapsed)
	}
	if mostPeak.peak > 2<<30 {
		t.Errorf("Evaluate(%s) on a large %s: heap of %d MiB", mostPeak.cond, mostPeak.field, mostPeak.peak>>20)
	}
}

// measureEvaluation evaluates r on ev, sampling the heap as it runs: the
// peak is the most the heap held above what it held before, garbage of
// earlier evaluations included, which the collector may free meanwhile.
func measureEvaluation(r *Rule, ev map[string]any) worstCase {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	_, err := r.Evaluate(ev)
	elapsed := time.Since(start)
	close(done)
	most := <-peak
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return worstCase{elapsed: elapsed, alloc: after.TotalAlloc - before.TotalAlloc, peak: most - min(most, before.HeapAlloc), err: err}
}

// slowdown scales the bounds of time that tests check: the race detector
// makes evaluations about ten times slower.
func slowdown() time.Duration {
	if raceEnabled {
		return 10
	}
	return 1
}
