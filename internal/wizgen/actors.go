package wizgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// tenant is the Wiz tenant whose logs are generated: its people, service
// accounts and the objects their actions name.
type tenant struct {
	users    []*actor
	services []*actor
	// nobody acts for entries that name neither a user nor a service
	// account: Wiz's own processes.
	nobody *actor

	projects     []string // project IDs
	reports      []string
	integrations []string
	connectors   []string
	rules        []string
	issues       []string
}

// actor is who performs audited actions, and from where.
type actor struct {
	service bool
	id      string
	name    string
	ips     []string
	agents  []string
}

// ref is the user or serviceAccount object of an audit entry.
type ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

const domain = "corvid-labs.com"

var firstNames = []string{
	"priya", "marco", "ines", "tom", "lena", "jonas", "aisha", "daniel", "mei", "oscar",
	"sofia", "liam", "fatima", "noah", "yuki", "elena", "kwame", "hannah", "raj", "chloe",
	"mateo", "amara", "lucas", "nora", "sven", "leila", "diego", "ingrid", "omar", "zoe",
}

var lastNames = []string{
	"raman", "bianchi", "duarte", "okafor", "fischer", "weber", "khan", "cohen", "chen", "lindqvist",
	"garcia", "murphy", "haddad", "schmidt", "tanaka", "popescu", "mensah", "berg", "patel", "martin",
}

var browsers = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
}

// Service accounts: name, the tools that use it, and the network they call
// from.
var serviceAccounts = []struct {
	name   string
	agents []string
	net    string
}{
	{"terraform-wiz-prod", []string{"Wiz-Terraform-Provider/1.19.4215", "Wiz-Terraform-Provider/1.18.3902"}, "35.196"},
	{"tines-soar-integration", []string{"Tines/1.0 (+https://www.tines.com)", "python-requests/2.32.3"}, "52.14"},
	{"github-actions-wiz-cli", []string{"wiz-cli/0.62.0", "wiz-cli/0.61.1"}, "20.42"},
	{"jira-sync-connector", []string{"Atlassian-Connect/2.3", "Go-http-client/2.0"}, "18.184"},
	{"okta-scim-provisioning", []string{"Okta SCIM Client 1.0.0"}, "52.41"},
	{"splunk-ta-wiz", []string{"Splunk-TA-Wiz/2.1.4 python-requests/2.31.0"}, "34.211"},
	{"panther-wiz-audit-logs", []string{"Go-http-client/2.0"}, "44.230"},
	{"snowflake-wiz-export", []string{"python-requests/2.32.3", "aiohttp/3.10.11"}, "3.120"},
	{"servicenow-itsm", []string{"ServiceNow/1.0"}, "148.139"},
	{"k8s-admission-controller", []string{"wiz-admission-controller/2.5.1"}, "34.89"},
	{"vuln-report-lambda", []string{"Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227 lang/python#3.12.7", "python-requests/2.32.3"}, "54.203"},
	{"datadog-wiz-integration", []string{"Datadog Agent/7.59.0", "Go-http-client/2.0"}, "3.233"},
}

// Office and VPN egress ranges, and home networks; documentation ranges
// and common ISP prefixes.
var officeNets = []string{"198.51.100", "203.0.113", "192.0.2"}
var homeNets = []string{"81.214", "92.40", "73.158", "24.61", "86.12", "178.197", "109.90", "68.193"}

func newTenant(r *rand.Rand) *tenant {
	t := &tenant{}
	seen := map[string]bool{}
	for len(t.users) < 40 {
		first, last := pick(r, firstNames), pick(r, lastNames)
		email := first + "." + last + "@" + domain
		if seen[email] {
			continue
		}
		seen[email] = true
		u := &actor{name: email, id: email, agents: []string{pick(r, browsers)}}
		if chance(r, 0.4) {
			// Users provisioned through the identity provider keep its
			// subject as their ID.
			u.id = "okta|00u" + randomString(r, 17, alnum)
		}
		u.ips = []string{fmt.Sprintf("%s.%d", pick(r, officeNets), 2+r.IntN(250))}
		if chance(r, 0.6) {
			u.ips = append(u.ips, fmt.Sprintf("%s.%d.%d", pick(r, homeNets), r.IntN(256), 1+r.IntN(254)))
		}
		if chance(r, 0.3) {
			u.agents = append(u.agents, pick(r, browsers))
		}
		t.users = append(t.users, u)
	}
	for _, s := range serviceAccounts {
		sa := &actor{service: true, id: randomString(r, 52, base32), name: s.name, agents: s.agents}
		for range 1 + r.IntN(3) {
			sa.ips = append(sa.ips, fmt.Sprintf("%s.%d.%d", s.net, r.IntN(256), 1+r.IntN(254)))
		}
		t.services = append(t.services, sa)
	}
	t.nobody = &actor{ips: []string{"10.12.4.31", "10.12.7.102"}, agents: []string{"Go-http-client/2.0"}}
	for range 8 {
		t.projects = append(t.projects, uuid(r))
	}
	for range 15 {
		t.reports = append(t.reports, uuid(r))
	}
	for range 6 {
		t.integrations = append(t.integrations, uuid(r))
		t.connectors = append(t.connectors, uuid(r))
	}
	for range 30 {
		t.rules = append(t.rules, uuid(r))
	}
	for range 200 {
		t.issues = append(t.issues, uuid(r))
	}
	return t
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32 = "abcdefghijklmnopqrstuvwxyz234567"
)

func randomString(r *rand.Rand, n int, alphabet string) string {
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// Who tends to perform an action.
type profile uint8

const (
	byUser    profile = iota // the console: mostly users
	byService                // the API: mostly service accounts
	byAnyone
	byUserOnly // logins
)

// actorFor picks who performs an action of profile p. A few entries of any
// kind have no actor at all.
func (t *tenant) actorFor(r *rand.Rand, p profile) *actor {
	if p != byUserOnly && chance(r, 0.01) {
		return t.nobody
	}
	var userShare float64
	switch p {
	case byUser:
		userShare = 0.85
	case byService:
		userShare = 0.1
	case byAnyone:
		userShare = 0.5
	case byUserOnly:
		userShare = 1
	}
	if chance(r, userShare) {
		// A few people do most of the work.
		n := len(t.users)
		if chance(r, 0.6) {
			n = 8
		}
		return t.users[r.IntN(n)]
	}
	return pick(r, t.services)
}
