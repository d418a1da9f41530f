package detect_test

import (
	"testing"

	"github.com/detectkit/detect"
)

// TestEventRefs: an alert references its first and latest events by
// p_row_id, else by its log type's ID field.
func TestEventRefs(t *testing.T) {
	var alerts []*detect.Alert
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error { alerts = append(alerts, a); return nil })
	r := &detect.Rule{Severity: detect.SeverityLow, ID: "R", Condition: `action == "x"`, GroupBy: []string{"user"}}
	e, err := detect.NewEngine([]*detect.Rule{r}, detect.WithSink(sink), detect.WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{
		`{"p_log_type": "AWS.CloudTrail", "eventID": "ct-1", "eventTime": "2025-01-01T00:00:00Z", "action": "x", "user": "a"}`,
		`{"p_log_type": "AWS.CloudTrail", "eventID": "ct-2", "eventTime": "2025-01-01T00:01:00Z", "action": "x", "user": "a"}`,
		`{"p_log_type": "AWS.CloudTrail", "eventID": "ct-3", "p_row_id": "row-3", "eventTime": "2025-01-01T00:02:00Z", "action": "x", "user": "a"}`,
		`{"p_log_type": "My.Log", "id": "m-1", "timestamp": "2025-01-01T00:00:00Z", "action": "x", "user": "b"}`,
	} {
		if err := e.Process([]byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, a := range alerts {
		got[a.Dedup] = [2]string{a.FirstEvent, a.LastEvent}
	}
	want := map[string][2]string{"a": {"ct-1", "row-3"}, "b": {"", ""}}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("alert %s: first, last events = %q; want %q", k, got[k], w)
		}
	}
}
