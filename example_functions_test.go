package detect_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/detectkit/detect"
)

func ExampleFunctions_RegisterFunc() {
	fns := detect.NewFunctions()
	// A plain Go function: the compiler checks calls against its
	// parameters, and a missing field skips the call (false).
	err := fns.RegisterFunc("isVPN", func(ip string) bool {
		return strings.HasPrefix(ip, "172.20.")
	})
	if err != nil {
		panic(err)
	}
	rule := detect.MustCompile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Custom.Login.Outside.VPN",
		Condition: `action == "login" && !isVPN(sourceIP)`,
	}, detect.WithFunctions(fns))
	for _, event := range []string{
		`{"action": "login", "sourceIP": "172.20.1.9"}`,
		`{"action": "login", "sourceIP": "198.51.100.4"}`,
	} {
		ok, err := rule.Evaluate(event)
		fmt.Println(ok, err)
	}

	// A wrong call does not compile.
	_, err = detect.Compile(&detect.Rule{Severity: detect.SeverityInfo, ID: "Custom.Bad", Condition: `isVPN(sourceIP, 24)`}, detect.WithFunctions(fns))
	fmt.Println(err)
	// Output:
	// false <nil>
	// true <nil>
	// detect: rule Custom.Bad: condition: too many arguments to call isVPN (1:1)
	//  | isVPN(sourceIP, 24)
	//  | ^
}

func ExampleFunctions_Register() {
	fns := detect.NewFunctions()
	// Register takes expression values as they come: the function checks
	// them itself. The signature lets the compiler check calls.
	riskScore := func(args ...any) (any, error) {
		country, _ := args[0].(string)
		switch country {
		case "":
			return nil, errors.New("riskScore: no country")
		case "US", "FR":
			return 1, nil
		}
		return 5, nil
	}
	if err := fns.Register("riskScore", riskScore, new(func(any) any)); err != nil {
		panic(err)
	}
	rule := detect.MustCompile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Custom.Risky.Login",
		Condition: `riskScore(geo.country) > 3`,
	}, detect.WithFunctions(fns))
	fmt.Println(rule.Evaluate(`{"geo": {"country": "FR"}}`))
	fmt.Println(rule.Evaluate(`{"geo": {"country": "AQ"}}`))
	// An error from the function is a rule error for that event.
	_, err := rule.Evaluate(`{"geo": {}}`)
	var ee *detect.EvalError
	fmt.Println(errors.As(err, &ee), ee.Msg)
	// Output:
	// false <nil>
	// true <nil>
	// true riskScore: no country
}

func ExampleTable() {
	admins, err := detect.NewTable("admins", "user", detect.IgnoreKeyCase())
	if err != nil {
		panic(err)
	}
	// Rows usually come from a file (LoadFile, LoadFS); any reader of CSV
	// will do.
	if err := admins.ReadCSV(strings.NewReader("user,team\nalice,security\nbob,platform\n")); err != nil {
		panic(err)
	}
	fns := detect.NewFunctions()
	if err := fns.AddTable(admins); err != nil {
		panic(err)
	}
	rule := detect.MustCompile(&detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Custom.Admin.Deletes.Logs",
		Condition: `action == "DeleteTrail" && inLookup("admins", actor)`,
		Title:     `Admin {actor} of team {lookup("admins", actor).team} deleted a trail`,
	}, detect.WithFunctions(fns))

	event := `{"action": "DeleteTrail", "actor": "Alice"}`
	title, _ := rule.AlertTitle(event)
	fmt.Println(title)

	// The service replaces the rows while rules run: no compiling again.
	if err := admins.ReadCSV(strings.NewReader("user,team\nbob,platform\n")); err != nil {
		panic(err)
	}
	fmt.Println(rule.Evaluate(event))

	// A table the set lacks is a compile error.
	_, err = detect.Compile(&detect.Rule{Severity: detect.SeverityInfo, ID: "Custom.Typo", Condition: `inLookup("admin", actor)`}, detect.WithFunctions(fns))
	fmt.Println(err)
	// Output:
	// Admin Alice of team security deleted a trail
	// false <nil>
	// detect: rule Custom.Typo: condition: unknown lookup table "admin": the tables are admins (1:10)
	//  | inLookup("admin", actor)
	//  | .........^
}

// The built-in library needs no registration: every rule may call it.
func Example_securityFunctions() {
	rule := detect.MustCompile(&detect.Rule{
		Severity: detect.SeverityInfo,
		ID:       "Custom.Suspicious.Download",
		Condition: `isPublicIP(client.ip)
			&& !inCIDR(client.ip, ["203.0.113.0/24", "198.51.100.0/24"])
			&& glob(request.path, ["*.exe", "*.ps1"])
			&& equalFold(request.method, "get")
			&& weekdayOf(time) in ["Saturday", "Sunday"]`,
		Fields: []detect.Field{
			{Name: "domain", Expr: `urlDomain(request.referer)`},
			{Name: "user", Expr: `parseJSON(request.claims).sub`},
			{Name: "hour", Expr: `hourOf(time, "Europe/Paris")`},
		},
	})
	event := `{"time": "2024-03-09T23:15:00Z", "client": {"ip": "8.8.4.4"},
		"request": {"method": "GET", "path": "/dl/tool.exe", "referer": "https://Files.Example.COM/x",
		"claims": "{\"sub\": \"alice\"}"}}`
	ok, err := rule.Evaluate(event)
	fmt.Println(ok, err)
	out, _ := rule.Outputs(event)
	fmt.Println(out["domain"], out["user"], out["hour"])

	// Missing data and garbage give false, never an error.
	ok, err = rule.Evaluate(`{"client": {"ip": "not an IP"}}`)
	fmt.Println(ok, err)
	// Output:
	// true <nil>
	// files.example.com alice 0
	// false <nil>
}
