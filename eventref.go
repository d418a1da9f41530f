package detect

import (
	"strconv"
)

// RowIDField is the field of Panther's unique ID of an event, which
// references an event before any field of its log type does.
const RowIDField = "p_row_id"

// builtinIDFields are the top-level fields that identify an event of a log
// type, from its schema: an alert names its first and last events by them
// (Alert.FirstEvent, Alert.LastEvent).
var builtinIDFields = map[string]string{
	"AWS.CloudTrail":  "eventID",
	"Okta.SystemLog":  "uuid",
	"GitHub.Audit":    "_document_id",
	"GCP.AuditLog":    "insertId",
	"Slack.AuditLogs": "id",
	"Box.Event":       "event_id",
	"Asana.Audit":     "gid",
	"Zendesk.Audit":   "id",
	"Wiz.Audit":       "id",
	"Wiz.Issues":      "id",
	"Wiz.Detections":  "id",
}

// maxRefBytes bounds an event reference that an alert keeps.
const maxRefBytes = 256

// BuiltinIDFields returns the field that identifies an event of each log
// type the engine knows; an event's p_row_id comes first.
func BuiltinIDFields() map[string]string {
	out := make(map[string]string, len(builtinIDFields))
	for lt, f := range builtinIDFields {
		out[lt] = f
	}
	return out
}

// idFieldNames are the top-level fields the engine decodes with the head
// of every event, to reference it in its alerts.
func idFieldNames() []string {
	names := []string{RowIDField}
	for _, f := range builtinIDFields {
		if !contains(names, f) {
			names = append(names, f)
		}
	}
	return names
}

// eventRef returns what references ev: its p_row_id, else the ID field of
// its log type (for an event without one, of the rule's log types), as
// text of at most maxRefBytes; "" when it has neither.
func eventRef(ev *Event, logType string, r *Rule) string {
	if s, ok := ev.Get(RowIDField).(string); ok && s != "" {
		return cutRef(s)
	}
	types := []string{logType}
	if logType == "" {
		types = r.LogTypes
	}
	for _, lt := range types {
		f, ok := builtinIDFields[lt]
		if !ok {
			continue
		}
		switch v := ev.Get(f).(type) {
		case string:
			return cutRef(v)
		case int:
			return strconv.Itoa(v)
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return ""
}

func cutRef(s string) string {
	if len(s) > maxRefBytes {
		return s[:maxRefBytes]
	}
	return s
}
