package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"
)

// AlertType says what an alert reports.
type AlertType string

// The alert types.
const (
	// AlertRule reports events that matched a rule.
	AlertRule AlertType = "RULE"
	// AlertRuleError reports events on which a rule failed to evaluate.
	AlertRuleError AlertType = "RULE_ERROR"
	// AlertMalformed reports the lines of one input that a Scanner could
	// not evaluate: not a JSON object, longer than its MaxLineBytes or
	// nested deeper than MaxDepth. Its RuleID is MalformedRuleID.
	AlertMalformed AlertType = "MALFORMED_EVENTS"
)

// MalformedRuleID is the RuleID of AlertMalformed alerts, which no rule
// raises.
const MalformedRuleID = "detect.MalformedEvents"

// AlertStep is the step of an alert's lifecycle that an Alert value
// reports. A sink hears of each alert twice, with the same ID: once when
// it is created (the match that reaches the rule's threshold) and once
// with its final state when its window closes, is flushed or is evicted.
// In replay mode (WithReplay) only the final state is delivered.
type AlertStep string

// The lifecycle steps.
const (
	// StepCreated is the alert as its creating match leaves it: the
	// event count is the threshold, and later matches may still join.
	StepCreated AlertStep = "created"
	// StepFinal is the alert's last state: its window is closed and its
	// event count and update time will not change.
	StepFinal AlertStep = "final"
)

// Alert is a group of matches of one rule with one dedup string within one
// dedup window, as Panther forms them. Its title, severity, outputs and
// per-alert description, reference and runbook are those of the window's
// first match.
//
// An Alert handed to an AlertSink belongs to the sink; detect does not
// change it afterwards.
type Alert struct {
	ID   string    // deterministic from type, rule ID, dedup string and window start
	Type AlertType // AlertRule or AlertRuleError
	// Step says which state of the alert this is: StepCreated or
	// StepFinal. Both states of one alert have the same ID.
	Step AlertStep
	// Rule is the rule that raised the alert.
	Rule     *Rule
	RuleID   string
	Title    string
	Severity Severity
	Dedup    string
	// EventCount is how many events the alert groups.
	EventCount int
	// CreationTime is the start of the alert's window: the time of its
	// first event. UpdateTime is the latest time of its events.
	CreationTime time.Time
	UpdateTime   time.Time
	// FirstEvent and LastEvent reference the alert's first event and the
	// latest that has a reference: the event's p_row_id, else its log
	// type's ID field (see BuiltinIDFields); "" when there is none.
	FirstEvent, LastEvent string
	// LogTypes are the log types of the alert's events, sorted; when none
	// of them had one, the rule's LogTypes.
	LogTypes []string
	Outputs  Outputs
	// DisplayName is the rule's display name.
	DisplayName string
	Description string
	Runbook     string
	Reference   string
	Reports     map[string][]string
	Tags        []string
}

// AlertID returns the ID of the alert of type typ for rule ruleID and dedup
// string dedup whose window starts at start: the first 16 bytes of a
// SHA-256 digest of those four, in hexadecimal. Replaying the same events
// gives the same IDs, and two processes sharing a dedup store agree on
// them.
func AlertID(typ AlertType, ruleID, dedup string, start time.Time) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{string(typ), ruleID, dedup} {
		// Length prefixes keep ("a:b", "c") and ("a", "b:c") apart.
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(start.UnixNano()))
	h.Write(n[:])
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// MarshalJSON encodes the alert as one JSON object with, in this order,
// alertId, step (the lifecycle step), type, ruleId, title, severity
// (upper case), dedup, eventCount, creationTime and updateTime (RFC 3339,
// UTC), firstEvent and lastEvent, logTypes, outputs (in the rule's
// order), displayName, description, runbook, reference, reports
// (framework names sorted) and tags. Absent lists and maps encode as [] and {}.
func (a *Alert) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := a.appendJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (a *Alert) appendJSON(buf *bytes.Buffer) error {
	sev, err := a.Severity.MarshalText()
	if err != nil {
		return err
	}
	outputs, err := a.Outputs.MarshalJSON()
	if err != nil {
		return err
	}
	buf.WriteString(`{"alertId":`)
	writeString(buf, a.ID)
	buf.WriteString(`,"step":`)
	writeString(buf, string(a.Step))
	buf.WriteString(`,"type":`)
	writeString(buf, string(a.Type))
	buf.WriteString(`,"ruleId":`)
	writeString(buf, a.RuleID)
	buf.WriteString(`,"title":`)
	writeString(buf, a.Title)
	buf.WriteString(`,"severity":`)
	writeString(buf, string(sev))
	buf.WriteString(`,"dedup":`)
	writeString(buf, a.Dedup)
	buf.WriteString(`,"eventCount":`)
	buf.WriteString(strconv.Itoa(a.EventCount))
	buf.WriteString(`,"creationTime":`)
	writeString(buf, a.CreationTime.UTC().Format(time.RFC3339Nano))
	buf.WriteString(`,"updateTime":`)
	writeString(buf, a.UpdateTime.UTC().Format(time.RFC3339Nano))
	buf.WriteString(`,"firstEvent":`)
	writeString(buf, a.FirstEvent)
	buf.WriteString(`,"lastEvent":`)
	writeString(buf, a.LastEvent)
	buf.WriteString(`,"logTypes":`)
	writeStrings(buf, a.LogTypes)
	buf.WriteString(`,"outputs":`)
	buf.Write(outputs)
	buf.WriteString(`,"displayName":`)
	writeString(buf, a.DisplayName)
	buf.WriteString(`,"description":`)
	writeString(buf, a.Description)
	buf.WriteString(`,"runbook":`)
	writeString(buf, a.Runbook)
	buf.WriteString(`,"reference":`)
	writeString(buf, a.Reference)
	buf.WriteString(`,"reports":{`)
	frameworks := make([]string, 0, len(a.Reports))
	for k := range a.Reports {
		frameworks = append(frameworks, k)
	}
	sort.Strings(frameworks)
	for i, k := range frameworks {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		writeStrings(buf, a.Reports[k])
	}
	buf.WriteString(`},"tags":`)
	writeStrings(buf, a.Tags)
	buf.WriteByte('}')
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	b, err := renderJSON.Marshal(s)
	if err != nil { // a string always encodes; keep the output valid anyway
		b = []byte(`""`)
	}
	buf.Write(b)
}

func writeStrings(buf *bytes.Buffer, list []string) {
	buf.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, s)
	}
	buf.WriteByte(']')
}

// An AlertSink receives the states of alerts (see AlertStep): each alert
// when it is created, within the Engine call that creates it, and its
// final state when its window closes. An Engine never calls its sink
// concurrently, so a sink needs no locking of its own for the engine's
// sake.
//
// An error from Send means the state was not delivered: the Engine counts
// it in EngineStats.Failed and returns it from the call that emitted the
// alert. An error that wraps a TemporaryError (see Temporary) makes the
// engine offer the same state again, with a bounded backoff
// (WithSinkRetry); any other error is final for that state.
type AlertSink interface {
	Send(a *Alert) error
}

// TemporaryError marks a sink error as temporary: the engine retries the
// delivery. Wrap an error with Temporary to make one.
type TemporaryError struct {
	Err error
}

// Error returns the wrapped error's message.
func (e *TemporaryError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary wraps err so that an Engine retries the delivery that failed
// with it; Temporary(nil) is nil.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return &TemporaryError{Err: err}
}

// AlertSinkFunc adapts a function to an AlertSink.
type AlertSinkFunc func(a *Alert) error

// Send calls f(a).
func (f AlertSinkFunc) Send(a *Alert) error { return f(a) }

// AlertWriter is an AlertSink that writes each alert to an io.Writer as
// one line of JSON (JSON lines), with a single Write call per alert. It is
// safe for concurrent use.
type AlertWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

// NewAlertWriter returns an AlertWriter writing to w.
func NewAlertWriter(w io.Writer) *AlertWriter {
	return &AlertWriter{w: w}
}

// Send writes a as one JSON line.
func (aw *AlertWriter) Send(a *Alert) error {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	aw.buf.Reset()
	if err := a.appendJSON(&aw.buf); err != nil {
		return fmt.Errorf("detect: alert %s: %w", a.ID, err)
	}
	aw.buf.WriteByte('\n')
	_, err := aw.w.Write(aw.buf.Bytes())
	return err
}
