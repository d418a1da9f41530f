package detect_test

import (
	"fmt"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

func ExampleRule_Evaluate() {
	event := []byte(`{"status": "SUCCESS", "action": "RevokeUserSessions",
		"sourceIP": "12.34.56.78", "user": {"name": "user@company.com"}}`)
	ok, err := rules.WizRevokeUserSessions.Evaluate(event)
	fmt.Println(ok, err)
	// Output: true <nil>
}

func ExampleRule_Outputs() {
	event := []byte(`{"id": "e-1", "status": "SUCCESS", "action": "RevokeUserSessions",
		"sourceIP": "12.34.56.78", "actionParameters": {"input": {"id": "u-7"}}}`)
	out, err := rules.WizRevokeUserSessions.Outputs(event)
	if err != nil {
		panic(err)
	}
	fmt.Println(out["source_ip"], out["event_id"], out["action_parameters"])
	// Output: 12.34.56.78 e-1 map[input:map[id:u-7]]
}

func ExampleCompile() {
	rule, err := detect.Compile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Okta.Admin.Login",
		Condition: `eventType == "user.session.start" && "admin" in actor.roles`,
		Title:     "Admin login by {actor.alternateId} from {client.ipAddress}",
		GroupBy:   []string{"actor.alternateId"},
	})
	if err != nil {
		panic(err)
	}
	m, _ := rule.Match(map[string]any{
		"eventType": "user.session.start",
		"actor":     map[string]any{"alternateId": "ann@example.com", "roles": []any{"admin"}},
		"client":    map[string]any{"ipAddress": "198.51.100.4"},
	})
	fmt.Println(m.Title)
	fmt.Println(m.Dedup)
	// Output:
	// Admin login by ann@example.com from 198.51.100.4
	// ann@example.com
}

func ExampleCompile_error() {
	_, err := detect.Compile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Broken.Rule",
		Condition: `status == "SUCCESS" && action in ["A", "B"`,
	})
	fmt.Println(err)
	// Output:
	// detect: rule Broken.Rule: condition: unexpected token EOF (1:42)
	//  | status == "SUCCESS" && action in ["A", "B"
	//  | .........................................^
}

func ExampleRule_Match() {
	m, err := rules.WizRevokeUserSessions.Match([]byte(`{"id": "e-1", "status": "SUCCESS",
		"action": "RevokeUserSessions", "serviceAccount": {"name": "ci-bot"}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Title)
	fmt.Println(m.Dedup, m.Severity)
	// Output:
	// [Wiz]: [RevokeUserSessions] action performed by serviceaccount [ci-bot]
	// e-1 MEDIUM
}

func ExampleRule_MatchJSON() {
	line := []byte(`{"id": "e-2", "status": "FAILED", "action": "RevokeUserSessions"}`)
	m, err := rules.WizRevokeUserSessions.MatchJSON(line)
	if err != nil {
		panic(err)
	}
	fmt.Println(m == nil) // a failed revocation does not match
	// Output:
	// true
}
