package detect_test

import (
	"fmt"
	"os"
	"time"

	"github.com/detectkit/detect"
)

// Three failed logins of one user within ten minutes raise one alert,
// printed when the input ends.
func ExampleEngine() {
	failedLogins := &detect.Rule{
		ID:          "Okta.Failed.Logins",
		LogTypes:    []string{"Okta.SystemLog"},
		Severity:    detect.SeverityHigh,
		Condition:   `outcome.result == "FAILURE"`,
		Title:       "Failed logins for {actor.alternateId}",
		GroupBy:     []string{"actor.alternateId"},
		Threshold:   3,
		DedupPeriod: 10 * time.Minute,
	}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		fmt.Printf("%s %s %s: %q, %d events from %s to %s\n", a.Step, a.Severity, a.RuleID, a.Title, a.EventCount,
			a.CreationTime.Format(time.TimeOnly), a.UpdateTime.Format(time.TimeOnly))
		return nil
	})
	eng, err := detect.NewEngine([]*detect.Rule{failedLogins}, detect.WithSink(sink))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range []string{
		`{"p_log_type":"Okta.SystemLog","p_event_time":"2024-07-31 10:00:00","actor":{"alternateId":"ann"},"outcome":{"result":"FAILURE"}}`,
		`{"p_log_type":"Okta.SystemLog","p_event_time":"2024-07-31 10:02:00","actor":{"alternateId":"bob"},"outcome":{"result":"FAILURE"}}`,
		`{"p_log_type":"Okta.SystemLog","p_event_time":"2024-07-31 10:04:00","actor":{"alternateId":"ann"},"outcome":{"result":"FAILURE"}}`,
		`{"p_log_type":"Okta.SystemLog","p_event_time":"2024-07-31 10:05:00","actor":{"alternateId":"ann"},"outcome":{"result":"SUCCESS"}}`,
		`{"p_log_type":"Okta.SystemLog","p_event_time":"2024-07-31 10:09:00","actor":{"alternateId":"ann"},"outcome":{"result":"FAILURE"}}`,
	} {
		if err := eng.Process([]byte(line)); err != nil {
			fmt.Println(err)
		}
	}
	if err := eng.Flush(); err != nil {
		fmt.Println(err)
	}
	s := eng.Stats()
	fmt.Printf("%d events, %d matches, %d alerts\n", s.Events, s.Matches, s.Alerts)
	// Output:
	// created HIGH Okta.Failed.Logins: "Failed logins for ann", 3 events from 10:00:00 to 10:09:00
	// final HIGH Okta.Failed.Logins: "Failed logins for ann", 3 events from 10:00:00 to 10:09:00
	// 5 events, 4 matches, 1 alerts
}

// A rule that fails on an event raises a RULE_ERROR alert, grouped by the
// kind of failure; the other rules still run on the event.
func ExampleEngine_ruleError() {
	bigUpload := &detect.Rule{Severity: detect.SeverityInfo, ID: "Big.Upload", Condition: `int(bytes) > 1000000`}
	eng, err := detect.NewEngine([]*detect.Rule{bigUpload}, detect.WithSink(detect.NewAlertWriter(os.Stdout)))
	if err != nil {
		fmt.Println(err)
		return
	}
	eng.Process([]byte(`{"timestamp":"2024-07-31T10:00:00Z","bytes":"lots"}`))
	eng.Process([]byte(`{"timestamp":"2024-07-31T10:01:00Z","bytes":"many"}`))
	eng.Flush()
	// Output:
	// {"alertId":"6f3f5b2ea75a0aa7cb343b17e40dbf98","step":"created","type":"RULE_ERROR","ruleId":"Big.Upload","title":"Error in Big.Upload: condition `int(bytes) > 1000000` failed: invalid operation: int(…)","severity":"INFO","dedup":"condition: invalid operation: int(…) (1:1)","eventCount":1,"creationTime":"2024-07-31T10:00:00Z","updateTime":"2024-07-31T10:00:00Z","firstEvent":"","lastEvent":"","logTypes":[],"outputs":{},"displayName":"","description":"","runbook":"","reference":"","reports":{},"tags":[]}
	// {"alertId":"6f3f5b2ea75a0aa7cb343b17e40dbf98","step":"final","type":"RULE_ERROR","ruleId":"Big.Upload","title":"Error in Big.Upload: condition `int(bytes) > 1000000` failed: invalid operation: int(…)","severity":"INFO","dedup":"condition: invalid operation: int(…) (1:1)","eventCount":2,"creationTime":"2024-07-31T10:00:00Z","updateTime":"2024-07-31T10:01:00Z","firstEvent":"","lastEvent":"","logTypes":[],"outputs":{},"displayName":"","description":"","runbook":"","reference":"","reports":{},"tags":[]}
}

// NewEngine reports invalid options and rules instead of panicking.
func ExampleNewEngine_error() {
	_, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "Bad", Condition: `action = "login"`}},
		detect.WithSink(detect.NewAlertWriter(os.Stdout)))
	fmt.Println(err)
	_, err = detect.NewEngine(nil, detect.WithSink(detect.NewAlertWriter(os.Stdout)), detect.WithMaxGroups(0))
	fmt.Println(err)
	// Output:
	// detect: rule Bad: condition: unexpected token Operator("=") (1:8)
	//  | action = "login"
	//  | .......^
	// detect: NewEngine: WithMaxGroups(0): must be positive
}

// In replay mode each alert reaches the sink once, with its final state:
// one record per alert, for back-tests. Each log type has its own clock,
// which a time from the future does not move.
func ExampleWithReplay() {
	r := &detect.Rule{Severity: detect.SeverityLow, ID: "Logins", LogTypes: []string{"Auth"}, Condition: `action == "login"`, GroupBy: []string{"user"}, Threshold: 2}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		fmt.Printf("%s %s/%s: %d events from %s\n", a.Step, a.RuleID, a.Dedup, a.EventCount, a.CreationTime.Format(time.TimeOnly))
		return nil
	})
	eng, err := detect.NewEngine([]*detect.Rule{r}, detect.WithSink(sink), detect.WithReplay())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range []string{
		`{"p_log_type":"Auth","action":"login","user":"ann","p_event_time":"2025-01-01T10:00:00Z"}`,
		`{"p_log_type":"Auth","action":"login","user":"ann","p_event_time":"2025-01-01T10:01:00Z"}`,
		`{"p_log_type":"Auth","p_event_time":"2200-01-01T00:00:00Z"}`,
		`{"p_log_type":"Auth","action":"login","user":"ann","p_event_time":"2025-01-01T10:02:00Z"}`,
		`{"p_log_type":"Auth","action":"login","user":"ann","p_event_time":"2025-01-01T10:03:00Z"}`,
	} {
		if err := eng.Process([]byte(line)); err != nil {
			fmt.Println(err)
		}
	}
	if err := eng.Flush(); err != nil {
		fmt.Println(err)
	}
	s := eng.Stats()
	fmt.Printf("%d alerts, %d distrusted times\n", s.Alerts, s.Distrusted)
	// Output:
	// final Logins/ann: 4 events from 10:00:00
	// 1 alerts, 1 distrusted times
}
