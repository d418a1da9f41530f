// Package wizgen generates realistic Wiz logs as JSON lines, for examples,
// tests and benchmarks: Wiz audit log entries (log type Wiz.Audit) and Wiz
// findings in the three shapes the Wiz passthrough rules read (Wiz.Issues,
// Wiz.IssuesWebhook and Wiz.Detections).
//
// Output is deterministic: the same Options and count give the same bytes,
// on every platform and Go version, because every random choice comes from
// a PCG generator seeded by Options.Seed and maps are encoded with sorted
// keys.
//
// Most audit entries are what a Wiz tenant logs all day: API queries by
// service accounts, issue triage, reports and logins by users, some of them
// failed. A controlled share are actions that a Wiz audit rule alerts on
// (see WatchedActions); no other entry matches any Wiz audit rule, so the
// share of matching events is exact.
package wizgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Log types of the generated events, in their p_log_type field.
const (
	LogTypeAudit         = "Wiz.Audit"
	LogTypeIssues        = "Wiz.Issues"
	LogTypeIssuesWebhook = "Wiz.IssuesWebhook"
	LogTypeDetections    = "Wiz.Detections"
)

// DefaultStart is the time of the first event when Options.Start is zero.
var DefaultStart = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

// DefaultSpan is how long the events last when Options.Span is zero.
const DefaultSpan = 72 * time.Hour

// Options configures a generated stream. The zero value is valid: seed 0,
// events over DefaultSpan from DefaultStart, no matching audit entries and
// no findings.
type Options struct {
	// Seed selects the stream; each seed gives another one.
	Seed uint64
	// Start is the time of the first event; zero means DefaultStart.
	Start time.Time
	// Span is the time the events cover, evenly on average; zero means
	// DefaultSpan.
	Span time.Duration
	// MatchRatio is the share, between 0 and 1, of audit entries that a
	// Wiz audit rule alerts on: successful actions from MatchActions.
	// Their number is MatchRatio times the number of audit entries,
	// rounded, and they are placed at random.
	MatchRatio float64
	// MatchActions are the actions of the matching entries, taken in turn
	// in a shuffled order so that each appears once before any appears
	// twice; empty means WatchedActions. Each must be in WatchedActions.
	MatchActions []string
	// Findings is how many of the events are Wiz findings (issues and
	// Defend detections) rather than audit entries, placed at random.
	Findings int
}

// Generate writes n events to w, one JSON object a line.
func Generate(w io.Writer, n int, opts Options) error {
	g, err := newGenerator(n, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for range n {
		b, err := g.next()
		if err != nil {
			return err
		}
		bw.Write(b)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("wizgen: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("wizgen: %w", err)
	}
	return nil
}

// Events returns n Wiz audit entries, each a JSON object, of which the
// share matchRatio are successful actions from matchActions (all of
// WatchedActions when none are given). It panics on invalid arguments; it
// is meant for tests and benchmarks, e.g. a stream where 1% of the entries
// match the RevokeUserSessions rule:
//
//	events := wizgen.Events(100_000, 1, 0.01, "RevokeUserSessions")
func Events(n int, seed uint64, matchRatio float64, matchActions ...string) [][]byte {
	g, err := newGenerator(n, Options{Seed: seed, MatchRatio: matchRatio, MatchActions: matchActions})
	if err != nil {
		panic(err)
	}
	out := make([][]byte, n)
	for i := range out {
		if out[i], err = g.next(); err != nil {
			panic(err)
		}
	}
	return out
}

// generator produces one stream. Which events are findings and which audit
// entries match is decided by selection sampling, so that their numbers are
// exact while their places are random, with no memory per event.
type generator struct {
	r     *rand.Rand
	n, i  int
	start time.Time
	slot  float64 // nanoseconds of the span per event

	findingsLeft int
	findings     int // findings generated so far
	auditLeft    int
	matchesLeft  int

	matchActions []string
	turn         []string // this round of match actions, shuffled
	tenant       *tenant
}

func newGenerator(n int, opts Options) (*generator, error) {
	if n < 0 {
		return nil, fmt.Errorf("wizgen: negative event count %d", n)
	}
	if opts.Findings < 0 || opts.Findings > n {
		return nil, fmt.Errorf("wizgen: %d findings do not fit in %d events", opts.Findings, n)
	}
	if opts.MatchRatio < 0 || opts.MatchRatio > 1 || math.IsNaN(opts.MatchRatio) {
		return nil, fmt.Errorf("wizgen: match ratio %v is not between 0 and 1", opts.MatchRatio)
	}
	if opts.Span < 0 {
		return nil, fmt.Errorf("wizgen: negative span %v", opts.Span)
	}
	actions := opts.MatchActions
	if len(actions) == 0 {
		actions = WatchedActions
	}
	for _, a := range actions {
		if !slices.Contains(WatchedActions, a) {
			return nil, fmt.Errorf("wizgen: %q is not an action that a Wiz audit rule watches", a)
		}
	}
	start, span := opts.Start, opts.Span
	if start.IsZero() {
		start = DefaultStart
	}
	if span == 0 {
		span = DefaultSpan
	}
	audit := n - opts.Findings
	g := &generator{
		// The second PCG word is fixed so that the seed alone picks the
		// stream.
		r:            rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
		n:            n,
		start:        start.UTC(),
		findingsLeft: opts.Findings,
		auditLeft:    audit,
		matchesLeft:  int(math.Round(float64(audit) * opts.MatchRatio)),
		matchActions: actions,
	}
	if n > 0 {
		g.slot = float64(span) / float64(n)
	}
	g.tenant = newTenant(g.r)
	return g, nil
}

// next returns the next event.
func (g *generator) next() ([]byte, error) {
	if g.i >= g.n {
		return nil, fmt.Errorf("wizgen: all %d events were generated", g.n)
	}
	// Event i happens at a random moment of its own slot of the span, so
	// times increase.
	at := g.start.Add(time.Duration(g.slot*float64(g.i) + g.slot*g.r.Float64()))
	left := g.n - g.i
	g.i++
	var ev any
	switch {
	case g.r.IntN(left) < g.findingsLeft:
		g.findingsLeft--
		ev = g.finding(at)
	case g.r.IntN(g.auditLeft) < g.matchesLeft:
		g.auditLeft--
		g.matchesLeft--
		ev = g.match(at)
	default:
		g.auditLeft--
		ev = g.quiet(at)
	}
	return encode(ev)
}

// nextMatchAction returns the action of the next matching entry.
func (g *generator) nextMatchAction() string {
	if len(g.turn) == 0 {
		g.turn = slices.Clone(g.matchActions)
		g.r.Shuffle(len(g.turn), func(i, j int) { g.turn[i], g.turn[j] = g.turn[j], g.turn[i] })
	}
	a := g.turn[0]
	g.turn = g.turn[1:]
	return a
}

// encode marshals an event without HTML escaping, as log shippers write
// JSON.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("wizgen: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// Helpers for random choices.

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// uuid returns a random version 4 UUID.
func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// isoMicro is the timestamp format of Wiz audit entries, e.g.
// 2024-07-31T17:55:29.239928Z; it is also RFC 3339.
const isoMicro = "2006-01-02T15:04:05.000000Z07:00"

// isoMilli is the timestamp format of Wiz findings.
const isoMilli = "2006-01-02T15:04:05.000Z07:00"
