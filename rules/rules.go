// Package rules holds detect's ready-made detection rules.
//
// Each rule is an exported *detect.Rule, compiled when the package is
// initialised, and carries its unit tests.
package rules

import (
	"time"

	"github.com/detectkit/detect"
)

func ptr[T any](v T) *T { return &v }

// WizRevokeUserSessions alerts when a Wiz audit event says that a user's
// sessions were revoked successfully.
var WizRevokeUserSessions = detect.MustCompile(&detect.Rule{
	ID:          "Wiz.Revoke.User.Sessions",
	DisplayName: "Wiz Revoke User Sessions",
	Description: "This rule detects user sessions revoked.",
	Runbook:     "Verify that this change was planned. If not, revoke all the sessions of the account and change its credentials",
	Reference:   "https://www.wiz.io/blog/storm-0558-compromised-microsoft-key-enables-authentication-of-countless-micr",
	LogTypes:    []string{"Wiz.Audit"},
	Severity:    detect.SeverityMedium,
	Reports:     map[string][]string{"MITRE ATT&CK": {"TA0040:T1531"}},
	DedupPeriod: 60 * time.Minute,
	Threshold:   1,
	Condition:   `status == "SUCCESS" && action == "RevokeUserSessions"`,
	Title:       `[Wiz]: [{action}] action performed by {user != nil ? "user" : serviceAccount != nil ? "serviceAccount" : "unknown"} [{user != nil ? user.name : serviceAccount != nil ? serviceAccount.name : "unknown"}]`,
	GroupBy:     []string{"id"},
	Fields: []detect.Field{
		{Name: "action", Expr: "action"},
		{Name: "source_ip", Expr: "sourceIP"},
		{Name: "event_id", Expr: "id"},
		{Name: "action_parameters", Expr: "actionParameters"},
	},
	Tests: []detect.Test{
		{
			Name:           "RevokeUserSessions",
			ExpectedResult: true,
			ExpectedTitle:  ptr("[Wiz]: [RevokeUserSessions] action performed by user [user@company.com]"),
			ExpectedDedup:  ptr("07fdb41e-e83d-46e2-814a-6cebc47acf97"),
			Log:            []byte(revokeSuccess),
		},
		{Name: "CreateUser", ExpectedResult: false, Log: []byte(createUser)},
		{Name: "RevokeUserSessions - Fail", ExpectedResult: false, Log: []byte(revokeFailed)},
	},
})

const revokeSuccess = `{
  "id": "07fdb41e-e83d-46e2-814a-6cebc47acf97",
  "action": "RevokeUserSessions",
  "requestId": "5fa96b8f-2c85-4c2d-b0f9-d4a4307ea8a7",
  "status": "SUCCESS",
  "timestamp": "2024-07-31T17:55:29.239928Z",
  "actionParameters": {"input": {"id": "<redacted>"}, "selection": ["__typename", "_stub"]},
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "sourceIP": "12.34.56.78",
  "serviceAccount": null,
  "user": {"id": "test.user@company.com", "name": "user@company.com"}
}`

const createUser = `{
  "id": "220d23be-f07c-4d97-b4a6-87ad04eddb14",
  "action": "CreateUser",
  "requestId": "0d9521b2-c3f8-4a73-bf7c-20257788752e",
  "status": "SUCCESS",
  "timestamp": "2024-07-29T09:40:15.66643Z",
  "actionParameters": {
    "input": {"assignedProjectIds": null, "email": "testy@company.com", "expiresAt": null, "name": "Test User", "role": "GLOBAL_ADMIN"},
    "selection": ["__typename", {"user": ["__typename", "id"]}]
  },
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "sourceIP": "8.8.8.8",
  "serviceAccount": null,
  "user": {"id": "someuser@company.com", "name": "someuser@company.com"}
}`

const revokeFailed = `{
  "id": "07fdb41e-e83d-46e2-814a-6cebc47acf97",
  "action": "RevokeUserSessions",
  "requestId": "5fa96b8f-2c85-4c2d-b0f9-d4a4307ea8a7",
  "status": "FAILED",
  "timestamp": "2024-07-31T17:55:29.239928Z",
  "actionParameters": {},
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "sourceIP": "12.34.56.78",
  "serviceAccount": null,
  "user": {"id": "test.user@company.com", "name": "user@company.com"}
}`

// All returns every ready-made rule, ordered by rule ID.
func All() []*detect.Rule {
	return []*detect.Rule{WizRevokeUserSessions}
}
