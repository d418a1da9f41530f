package wizgen

import (
	"math/rand/v2"
	"strings"
	"time"
)

// WatchedActions are the actions that the Wiz audit rules alert on when
// they succeed, rule by rule. No other action, and no failed action,
// matches a Wiz audit rule.
var WatchedActions = []string{
	// Wiz.CICD.Scan.Policy.Updated.Or.Deleted
	"DeleteCICDScanPolicy", "UpdateCICDScanPolicy",
	// Wiz.Connector.Updated.Or.Deleted
	"DeleteConnector", "UpdateConnector",
	// Wiz.Data.Classifier.Updated.Or.Deleted
	"DeleteDataClassifier", "UpdateDataClassifier",
	// Wiz.Image.Integrity.Validator.Updated.Or.Deleted
	"DeleteImageIntegrityValidator", "UpdateImageIntegrityValidator",
	// Wiz.Integration.Updated.Or.Deleted
	"DeleteIntegration", "UpdateIntegration",
	// Wiz.Revoke.User.Sessions
	"RevokeUserSessions",
	// Wiz.Rotate.Service.Account.Secret
	"RotateServiceAccountSecret",
	// Wiz.Rule.Change
	"DeleteAutomationRule", "UpdateAutomationRule",
	"DeleteCloudEventRule", "UpdateCloudEventRule",
	"DeleteCloudConfigurationRule", "UpdateCloudConfigurationRule",
	"DeleteHostConfigurationRule", "UpdateHostConfigurationRule",
	"CreateIgnoreRule", "DeleteIgnoreRule", "UpdateIgnoreRule",
	"CreateMalwareExclusion", "UpdateMalwareExclusion",
	// Wiz.SAML.Identity.Provider.Change
	"CreateSAMLIdentityProvider", "DeleteSAMLIdentityProvider", "UpdateSAMLIdentityProvider",
	"ModifySAMLIdentityProviderGroupMappings",
	// Wiz.Service.Account.Change
	"CreateServiceAccount", "DeleteServiceAccount", "UpdateServiceAccount",
	// Wiz.Update.IP.Restrictions
	"UpdateIPRestrictions",
	// Wiz.Update.Login.Settings
	"UpdateLoginSettings",
	// Wiz.Update.Scanner.Settings
	"UpdateScannerSettings",
	// Wiz.Update.Support.Contact.List
	"UpdateSupportContactList",
	// Wiz.User.Created.Or.Deleted
	"CreateUser", "DeleteUser",
	// Wiz.User.Role.Updated.Or.Deleted
	"DeleteUserRole", "UpdateUserRole",
}

// auditEntry is one entry of the Wiz audit log, with Panther's p_ fields.
type auditEntry struct {
	ID               string `json:"id"`
	Action           string `json:"action"`
	RequestID        string `json:"requestId"`
	Status           string `json:"status"`
	Timestamp        string `json:"timestamp"`
	ActionParameters obj    `json:"actionParameters"`
	UserAgent        string `json:"userAgent"`
	SourceIP         string `json:"sourceIP"`
	ServiceAccount   *ref   `json:"serviceAccount"`
	User             *ref   `json:"user"`
	LogType          string `json:"p_log_type"`
	EventTime        string `json:"p_event_time"`
}

type (
	obj  = map[string]any
	list = []any
)

// quietAction is an action that no Wiz audit rule alerts on, with how
// often it happens relative to the others.
type quietAction struct {
	name   string
	weight int
	who    profile
	params func(g *generator) obj
}

// quietActions are what a tenant logs all day: mostly API reads by
// integrations, then triage, reports and logins, and now and then a
// configuration change that the rules leave alone.
var quietActions = []quietAction{
	{"GetIssues", 140, byService, getIssues},
	{"GraphSearch", 70, byAnyone, graphSearch},
	{"GetVulnerabilityFindings", 60, byService, getVulnerabilityFindings},
	{"GetCloudResources", 50, byService, getCloudResources},
	{"Login", 45, byUserOnly, login},
	{"UpdateIssue", 45, byAnyone, updateIssue},
	{"GetCloudConfigurationFindings", 40, byService, getConfigurationFindings},
	{"GetAuditLogEntries", 30, byService, getAuditLogEntries},
	{"DownloadReport", 25, byService, downloadReport},
	{"ListProjects", 20, byAnyone, listProjects},
	{"CreateIssueNote", 20, byUser, createIssueNote},
	{"ListUsers", 15, byAnyone, listUsers},
	{"GetControls", 15, byAnyone, getControls},
	{"GetReports", 15, byAnyone, getReports},
	{"CreateServiceTicket", 10, byAnyone, createServiceTicket},
	{"RerunReport", 10, byService, rerunReport},
	{"ListConnectors", 8, byAnyone, listConnectors},
	{"CreateReport", 8, byUser, createReport},
	{"Logout", 8, byUserOnly, func(*generator) obj { return obj{} }},
	{"ListServiceAccounts", 6, byUser, listServiceAccounts},
	{"CreateSavedGraphQuery", 5, byUser, savedGraphQuery},
	{"UpdateUserPreferences", 5, byUserOnly, updateUserPreferences},
	{"UpdateReport", 4, byUser, updateReport},
	{"UpdateSavedGraphQuery", 3, byUser, savedGraphQuery},
	{"DeleteReport", 3, byUser, deleteStub(func(t *tenant) []string { return t.reports })},
	{"UpdateProject", 3, byUser, updateProject},
	{"UpdateUser", 3, byUser, updateUser},
	{"CreateProject", 1, byUser, createProject},
	{"CreateConnector", 1, byAnyone, createConnector},
	{"CreateIntegration", 1, byUser, createIntegration},
	{"CreateCloudConfigurationRule", 2, byAnyone, createConfigurationRule},
	{"CreateAutomationRule", 2, byAnyone, createAutomationRule},
	{"CreateCloudEventRule", 1, byAnyone, createCloudEventRule},
	{"CreateUserRole", 1, byUser, createUserRole},
	{"CreateCICDScanPolicy", 1, byAnyone, createCICDScanPolicy},
	{"CreateDataClassifier", 1, byUser, createDataClassifier},
	{"CreateImageIntegrityValidator", 1, byAnyone, createImageIntegrityValidator},
}

var quietTotal = func() int {
	n := 0
	for _, a := range quietActions {
		n += a.weight
	}
	return n
}()

const (
	failureRate  = 0.03  // quiet actions that fail
	nearMissRate = 0.015 // quiet entries that are a watched action that failed
)

// match returns an entry that a Wiz audit rule alerts on.
func (g *generator) match(at time.Time) *auditEntry {
	action := g.nextMatchAction()
	a := g.tenant.actorFor(g.r, watchedProfile(action))
	return g.entry(at, action, "SUCCESS", watchedParams(g, action), a)
}

// quiet returns an entry that no Wiz audit rule alerts on.
func (g *generator) quiet(at time.Time) *auditEntry {
	if chance(g.r, nearMissRate) {
		action := pick(g.r, WatchedActions)
		a := g.tenant.actorFor(g.r, watchedProfile(action))
		params := obj{}
		if chance(g.r, 0.5) {
			params = watchedParams(g, action)
		}
		return g.entry(at, action, "FAILED", params, a)
	}
	w := g.r.IntN(quietTotal)
	qa := quietActions[0]
	for _, x := range quietActions {
		if w < x.weight {
			qa = x
			break
		}
		w -= x.weight
	}
	a := g.tenant.actorFor(g.r, qa.who)
	status := "SUCCESS"
	params := qa.params(g)
	if chance(g.r, failureRate) {
		status = "FAILED"
		if chance(g.r, 0.5) {
			params = obj{}
		}
	}
	return g.entry(at, qa.name, status, params, a)
}

func (g *generator) entry(at time.Time, action, status string, params obj, a *actor) *auditEntry {
	ts := at.Format(isoMicro)
	e := &auditEntry{
		ID:               uuid(g.r),
		Action:           action,
		RequestID:        uuid(g.r),
		Status:           status,
		Timestamp:        ts,
		ActionParameters: params,
		UserAgent:        pick(g.r, a.agents),
		SourceIP:         pick(g.r, a.ips),
		LogType:          LogTypeAudit,
		EventTime:        ts,
	}
	switch {
	case a == g.tenant.nobody:
	case a.service:
		e.ServiceAccount = &ref{ID: a.id, Name: a.name}
	default:
		e.User = &ref{ID: a.id, Name: a.name}
	}
	return e
}

func watchedProfile(action string) profile {
	switch action {
	case "RevokeUserSessions", "UpdateLoginSettings", "UpdateSupportContactList", "RotateServiceAccountSecret":
		return byUser
	case "CreateUser", "DeleteUser":
		// Provisioning from the identity provider, or by hand.
		return byAnyone
	}
	if strings.HasPrefix(action, "Create") || strings.HasPrefix(action, "Update") {
		// Configuration as code, or the console.
		return byAnyone
	}
	return byUser
}

// Selections: the fields a GraphQL mutation or query asked for, as Wiz logs
// them.

var stubSelection = list{"__typename", "_stub"}

func selection(root string, fields ...any) list {
	return list{"__typename", obj{root: append(list{"__typename"}, fields...)}}
}

func connection(root string, fields ...any) list {
	return list{"__typename", obj{root: list{
		"__typename",
		obj{"nodes": append(list{"__typename"}, fields...)},
		obj{"pageInfo": list{"__typename", "hasNextPage", "endCursor"}},
		"totalCount",
	}}}
}

func cursor(g *generator) any {
	if chance(g.r, 0.6) {
		return nil
	}
	return randomString(g.r, 24, alnum) + "=="
}

func since(g *generator) string {
	d := time.Duration(1+g.r.IntN(72)) * time.Hour
	return g.start.Add(-d).Format(isoMilli)
}

func someOf[T any](r *rand.Rand, xs []T, max int) list {
	n := 1 + r.IntN(max)
	out := make(list, 0, n)
	for _, i := range r.Perm(len(xs))[:min(n, len(xs))] {
		out = append(out, xs[i])
	}
	return out
}

var (
	severities  = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}
	issueStates = []string{"OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"}
	platforms   = []string{"AWS", "Azure", "GCP", "Kubernetes", "OCI"}
	entityTypes = []string{"VIRTUAL_MACHINE", "CONTAINER_IMAGE", "BUCKET", "DATABASE", "SERVERLESS", "KUBERNETES_CLUSTER", "USER_ACCOUNT", "SERVICE_ACCOUNT"}
)

// Quiet actions.

func getIssues(g *generator) obj {
	filter := obj{"status": someOf(g.r, issueStates[:2], 2), "severity": someOf(g.r, severities[:3], 3)}
	if chance(g.r, 0.4) {
		filter["project"] = someOf(g.r, g.tenant.projects, 3)
	}
	if chance(g.r, 0.5) {
		filter["createdAt"] = obj{"after": since(g)}
	}
	return obj{
		"first":    pick(g.r, []int{50, 100, 500}),
		"after":    cursor(g),
		"filterBy": filter,
		"orderBy":  obj{"field": pick(g.r, []string{"SEVERITY", "CREATED_AT"}), "direction": "DESC"},
		"selection": connection("issues", "id", "status", "severity", "createdAt", "updatedAt",
			obj{"sourceRule": list{"__typename", "id", "name"}},
			obj{"entitySnapshot": list{"__typename", "id", "type", "name", "cloudPlatform", "region", "subscriptionExternalId"}},
			obj{"projects": list{"__typename", "id", "name"}}),
	}
}

func graphSearch(g *generator) obj {
	t := pick(g.r, entityTypes)
	q := obj{"type": list{t}, "select": true}
	if chance(g.r, 0.6) {
		q["relationships"] = list{obj{"type": list{obj{"type": "SERVES"}}, "with": obj{"type": list{"ENDPOINT"}, "select": true, "where": obj{"portValidationResult": obj{"EQUALS": list{"Open"}}}}}}
	}
	return obj{
		"query":                    q,
		"projectId":                pick(g.r, append([]string{"*"}, g.tenant.projects...)),
		"first":                    pick(g.r, []int{20, 50, 500}),
		"quick":                    chance(g.r, 0.7),
		"fetchPublicExposurePaths": chance(g.r, 0.3),
		"selection": list{"__typename", obj{"graphSearch": list{"__typename", "totalCount", "maxCountReached",
			obj{"nodes": list{"__typename", obj{"entities": list{"__typename", "id", "name", "type", "properties"}}}}}}},
	}
}

func getVulnerabilityFindings(g *generator) obj {
	return obj{
		"first": 500,
		"after": cursor(g),
		"filterBy": obj{
			"severity":  someOf(g.r, severities[:3], 3),
			"hasFix":    chance(g.r, 0.5),
			"updatedAt": obj{"after": since(g)},
		},
		"selection": connection("vulnerabilityFindings", "id", "name", "CVEDescription", "severity", "fixedVersion", "detectionMethod",
			obj{"vulnerableAsset": list{"__typename", "id", "type", "name", "cloudPlatform"}}),
	}
}

func getCloudResources(g *generator) obj {
	return obj{
		"first": 500,
		"after": cursor(g),
		"filterBy": obj{
			"cloudPlatform": someOf(g.r, platforms, 2),
			"type":          someOf(g.r, entityTypes, 3),
			"projectId":     pick(g.r, g.tenant.projects),
		},
		"selection": connection("cloudResources", "id", "name", "type", "subscriptionId", "subscriptionExternalId", "region", "tags"),
	}
}

func getConfigurationFindings(g *generator) obj {
	return obj{
		"first": 500,
		"after": cursor(g),
		"filterBy": obj{
			"status":   list{"OPEN"},
			"severity": someOf(g.r, severities[:4], 2),
			"rule":     obj{"id": someOf(g.r, g.tenant.rules, 3)},
		},
		"selection": connection("configurationFindings", "id", "targetExternalId", "severity", "result",
			obj{"rule": list{"__typename", "id", "name", "remediationInstructions"}}),
	}
}

func getAuditLogEntries(g *generator) obj {
	return obj{
		"first":     500,
		"after":     cursor(g),
		"filterBy":  obj{"timestamp": obj{"after": since(g)}},
		"selection": connection("auditLogEntries", "id", "action", "requestId", "status", "timestamp", "actionParameters", "userAgent", "sourceIP", obj{"user": list{"__typename", "id", "name"}}, obj{"serviceAccount": list{"__typename", "id", "name"}}),
	}
}

func downloadReport(g *generator) obj {
	return obj{"reportId": pick(g.r, g.tenant.reports), "selection": selection("report", "id", obj{"lastRun": list{"__typename", "url", "status", "runAt"}})}
}

func listProjects(g *generator) obj {
	return obj{"first": 100, "filterBy": obj{"includeArchived": false}, "selection": connection("projects", "id", "name", "slug", "businessUnit", "riskProfile")}
}

func listUsers(g *generator) obj {
	f := obj{}
	if chance(g.r, 0.5) {
		f["role"] = list{pick(g.r, []string{"GLOBAL_ADMIN", "GLOBAL_READER", "PROJECT_ADMIN", "PROJECT_READER"})}
	}
	return obj{"first": 500, "after": cursor(g), "filterBy": f, "selection": connection("users", "id", "name", "email", "role", "lastLoginAt", "identityProviderType")}
}

func listServiceAccounts(g *generator) obj {
	return obj{"first": 100, "selection": connection("serviceAccounts", "id", "name", "clientId", "scopes", "lastRotatedAt", "createdAt")}
}

func listConnectors(g *generator) obj {
	return obj{"first": 100, "filterBy": obj{"enabled": true}, "selection": connection("connectors", "id", "name", "type", "status", "lastActivity")}
}

func getControls(g *generator) obj {
	return obj{"first": 500, "filterBy": obj{"enabled": true, "type": list{"SECURITY_GRAPH"}}, "selection": connection("controls", "id", "name", "severity", "description", "enabled")}
}

func getReports(g *generator) obj {
	return obj{"first": 20, "filterBy": obj{"projectId": list{pick(g.r, g.tenant.projects)}}, "selection": connection("reports", "id", "name", "type", obj{"lastRun": list{"__typename", "status", "runAt"}})}
}

func login(g *generator) obj {
	if chance(g.r, 0.9) {
		return obj{"method": "SSO", "provider": "okta-corvid", "mfa": true}
	}
	return obj{"method": "PASSWORD", "mfa": chance(g.r, 0.8)}
}

var issueNotes = []string{
	"Accepted risk: internal-only service, reviewed with the platform team.",
	"Fix deployed in release 2025.03.2, waiting for the next scan.",
	"Tracking in SEC-2231.",
	"False positive: the bucket only serves the public marketing site.",
	"Owner contacted on Slack, remediation planned this sprint.",
	"Duplicate of an issue on the same image in another project.",
}

func updateIssue(g *generator) obj {
	patch := obj{"status": pick(g.r, []string{"IN_PROGRESS", "RESOLVED", "REJECTED"})}
	if patch["status"] != "IN_PROGRESS" {
		patch["resolutionReason"] = pick(g.r, []string{"ISSUE_FIXED", "FALSE_POSITIVE", "EXCEPTION", "WONT_FIX"})
	}
	if chance(g.r, 0.5) {
		patch["note"] = pick(g.r, issueNotes)
	}
	return obj{"issueId": pick(g.r, g.tenant.issues), "patch": patch, "selection": selection("issue", "id", "status", "resolutionReason", "updatedAt")}
}

func createIssueNote(g *generator) obj {
	return obj{"input": obj{"issueId": pick(g.r, g.tenant.issues), "text": pick(g.r, issueNotes)}, "selection": selection("issueNote", "id", "createdAt")}
}

func createServiceTicket(g *generator) obj {
	return obj{"input": obj{
		"issueId":       pick(g.r, g.tenant.issues),
		"integrationId": pick(g.r, g.tenant.integrations),
		"params":        obj{"jira": obj{"project": pick(g.r, []string{"SEC", "PLAT", "DATA"}), "issueType": "Bug", "priority": pick(g.r, []string{"High", "Medium"})}},
	}, "selection": selection("serviceTicket", "id", "externalId", "url")}
}

func createReport(g *generator) obj {
	return obj{"input": obj{
		"name":             pick(g.r, []string{"weekly-critical-issues", "vulns-with-fix-prod", "public-buckets", "cis-aws-benchmark", "k8s-posture"}),
		"type":             pick(g.r, []string{"ISSUES", "VULNERABILITIES", "CONFIGURATION_FINDINGS", "COMPLIANCE_ASSESSMENTS"}),
		"projectId":        pick(g.r, append([]string{"*"}, g.tenant.projects...)),
		"runIntervalHours": pick(g.r, []any{24, 168, nil}),
		"issueParams":      obj{"type": "DETAILED", "issueFilters": obj{"severity": someOf(g.r, severities[:3], 2)}},
	}, "selection": selection("report", "id", "name")}
}

func rerunReport(g *generator) obj {
	return obj{"reportId": pick(g.r, g.tenant.reports), "selection": selection("report", "id", obj{"lastRun": list{"__typename", "status"}})}
}

func updateReport(g *generator) obj {
	return obj{"input": obj{"id": pick(g.r, g.tenant.reports), "override": obj{"runIntervalHours": pick(g.r, []int{24, 168}), "emailTargetParams": obj{"to": list{"secops@" + domain}}}}, "selection": selection("report", "id")}
}

func savedGraphQuery(g *generator) obj {
	return obj{"input": obj{
		"name":                  pick(g.r, []string{"Internet-facing VMs with critical CVEs", "Admin roles without MFA", "Public buckets with PII", "Containers running as root"}),
		"projectId":             pick(g.r, g.tenant.projects),
		"securitySubCategories": list{},
		"query":                 obj{"type": list{pick(g.r, entityTypes)}, "select": true},
	}, "selection": selection("savedGraphQuery", "id", "name")}
}

func updateUserPreferences(g *generator) obj {
	return obj{"input": obj{"patch": obj{"timezone": pick(g.r, []string{"Europe/Berlin", "America/New_York", "Europe/Lisbon", "Asia/Tokyo"}), "defaultProjectId": pick(g.r, g.tenant.projects)}}}
}

func updateProject(g *generator) obj {
	return obj{"input": obj{"id": pick(g.r, g.tenant.projects), "patch": obj{"description": "Owned by the platform team", "riskProfile": obj{"businessImpact": pick(g.r, []string{"HBI", "MBI", "LBI"})}}}, "selection": selection("project", "id", "name")}
}

func createProject(g *generator) obj {
	return obj{"input": obj{"name": pick(g.r, []string{"Payments", "Mobile Backend", "ML Platform"}), "businessUnit": "Engineering", "cloudOrganizationLinks": list{obj{"cloudOrganization": uuid(g.r), "shared": true}}}, "selection": selection("project", "id")}
}

func updateUser(g *generator) obj {
	return obj{"input": obj{"id": pick(g.r, g.tenant.users).id, "patch": obj{"role": pick(g.r, []string{"PROJECT_READER", "PROJECT_MEMBER", "GLOBAL_READER"}), "assignedProjectIds": someOf(g.r, g.tenant.projects, 2)}}, "selection": selection("user", "id", "role")}
}

func createConnector(g *generator) obj {
	return obj{"input": obj{"name": "gcp-analytics-" + randomString(g.r, 4, base32), "type": "gcp", "authParams": "<redacted>", "extraConfig": obj{"projects": list{"analytics-prod-4417"}, "auditLogMonitorEnabled": true}}, "selection": selection("connector", "id", "status")}
}

func createIntegration(g *generator) obj {
	return obj{"input": obj{"name": "jira-cloud", "type": "JIRA", "params": obj{"jira": obj{"serverUrl": "https://corvid-labs.atlassian.net", "authorization": "<redacted>"}}}, "selection": selection("integration", "id")}
}

func createConfigurationRule(g *generator) obj {
	return obj{"input": obj{"name": pick(g.r, []string{"S3 buckets must block public ACLs", "RDS instances must be encrypted", "EKS clusters must restrict the API endpoint"}), "targetNativeTypes": list{pick(g.r, []string{"bucket", "rds", "eks"})}, "severity": pick(g.r, severities[:3]), "opaPolicy": "package wiz\n\ndefault result = \"pass\"\n", "enabled": true}, "selection": selection("rule", "id")}
}

func createAutomationRule(g *generator) obj {
	return obj{"input": obj{"name": "critical-issues-to-slack", "triggerSource": "ISSUES", "triggerType": list{"CREATED"}, "filters": obj{"severity": list{"CRITICAL"}}, "actions": list{obj{"integrationId": pick(g.r, g.tenant.integrations)}}, "enabled": true}, "selection": selection("automationRule", "id")}
}

func createCloudEventRule(g *generator) obj {
	return obj{"input": obj{"name": "Console login without MFA", "severity": "HIGH", "matchFilters": list{obj{"origin": "AWS_CLOUDTRAIL", "eventName": "ConsoleLogin"}}, "enabled": true}, "selection": selection("cloudEventRule", "id")}
}

func createUserRole(g *generator) obj {
	return obj{"input": obj{"name": "auditor", "description": "Read-only access for auditors", "scopes": list{"read:all"}}, "selection": selection("userRole", "id")}
}

func createCICDScanPolicy(g *generator) obj {
	return obj{"input": obj{"name": "iac-misconfig-gate", "policyType": "IAC", "iacParams": obj{"severityThreshold": "HIGH", "countThreshold": 1}}, "selection": selection("scanPolicy", "id")}
}

func createDataClassifier(g *generator) obj {
	return obj{"input": obj{"name": "Employee badge numbers", "category": "PII", "severity": "MEDIUM", "matchers": list{obj{"regex": "CL-[0-9]{6}"}}}, "selection": selection("dataClassifier", "id")}
}

func createImageIntegrityValidator(g *generator) obj {
	return obj{"input": obj{"name": "staging-images", "imageIntegrityVerifierType": "NOTARY", "imagePatterns": list{"471112936218.dkr.ecr.eu-west-1.amazonaws.com/staging/*"}}, "selection": selection("imageIntegrityValidator", "id")}
}

func deleteStub(ids func(*tenant) []string) func(*generator) obj {
	return func(g *generator) obj {
		return obj{"input": obj{"id": pick(g.r, ids(g.tenant))}, "selection": stubSelection}
	}
}

// watchedParams returns the parameters of a watched action.
func watchedParams(g *generator, action string) obj {
	r := g.r
	if strings.HasPrefix(action, "Delete") {
		id := uuid(r)
		switch action {
		case "DeleteConnector":
			id = pick(r, g.tenant.connectors)
		case "DeleteIntegration":
			id = pick(r, g.tenant.integrations)
		case "DeleteServiceAccount":
			id = pick(r, g.tenant.services).id
		case "DeleteUser":
			id = pick(r, g.tenant.users).id
		case "DeleteDataClassifier":
			id = "CUSTOM-" + id
		case "DeleteAutomationRule", "DeleteCloudEventRule", "DeleteCloudConfigurationRule", "DeleteHostConfigurationRule":
			id = pick(r, g.tenant.rules)
		}
		return obj{"input": obj{"id": id}, "selection": stubSelection}
	}
	switch action {
	case "UpdateCICDScanPolicy":
		return obj{"input": obj{"id": uuid(r), "patch": obj{"name": "block-critical-fixable-cves", "diskVulnerabilitiesParams": obj{"severity": pick(r, severities[:3]), "packageCountThreshold": 1 + r.IntN(10), "ignoreUnfixed": chance(r, 0.5)}}}, "selection": selection("scanPolicy", "id", "name", "builtin")}
	case "UpdateConnector":
		return obj{"input": obj{"id": pick(r, g.tenant.connectors), "patch": obj{"enabled": chance(r, 0.5), "extraConfig": obj{"auditLogMonitorEnabled": chance(r, 0.5), "excludedOUs": list{"ou-7f2k-sandbox01"}}}}, "selection": selection("connector", "id", "name", "enabled", "status")}
	case "UpdateDataClassifier":
		return obj{"input": obj{"id": "CUSTOM-" + uuid(r), "patch": obj{"severity": pick(r, severities[:4]), "minMatchCount": pick(r, []int{1, 10, 100})}}, "selection": selection("dataClassifier", "id", "name", "severity")}
	case "UpdateImageIntegrityValidator":
		return obj{"input": obj{"id": uuid(r), "patch": obj{"imagePatterns": list{pick(r, []string{"*", "471112936218.dkr.ecr.us-east-1.amazonaws.com/*"})}, "cosignParams": obj{"publicKey": "<redacted>", "ignoreTlog": chance(r, 0.5)}}}, "selection": selection("imageIntegrityValidator", "id", "name")}
	case "UpdateIntegration":
		return obj{"input": obj{"id": pick(r, g.tenant.integrations), "patch": obj{"params": obj{"slack": obj{"url": "<redacted>", "channel": pick(r, []string{"#secops-alerts", "#secops-muted", "#wiz-noise"})}}}}, "selection": selection("integration", "id", "name", "type")}
	case "RevokeUserSessions":
		return obj{"input": obj{"id": pick(r, g.tenant.users).id}, "selection": stubSelection}
	case "RotateServiceAccountSecret":
		return obj{"ID": pick(r, g.tenant.services).id, "selection": selection("serviceAccount", "id", "enabled", "name", "clientId", "scopes", "lastRotatedAt", "expiresAt", obj{"integration": list{"__typename", "id"}}, "clientSecret")}
	case "UpdateAutomationRule":
		return obj{"input": obj{"id": pick(r, g.tenant.rules), "patch": obj{"enabled": chance(r, 0.5), "actions": list{obj{"integrationId": pick(r, g.tenant.integrations)}}}}, "selection": selection("automationRule", "id", "name", "enabled")}
	case "UpdateCloudEventRule", "UpdateCloudConfigurationRule", "UpdateHostConfigurationRule":
		return obj{"input": obj{"id": pick(r, g.tenant.rules), "patch": obj{"enabled": chance(r, 0.6), "severity": pick(r, severities)}}, "selection": selection("rule", "id", "name", "enabled", "severity")}
	case "CreateIgnoreRule", "UpdateIgnoreRule":
		in := obj{"name": pick(r, []string{"ignore-sandbox-public-buckets", "ignore-ci-runners", "accepted-legacy-tls"}), "reason": pick(r, []string{"EXCEPTION", "FALSE_POSITIVE", "WONT_FIX"}), "expiredAt": g.start.AddDate(0, 3, 0).Format(isoMilli), "ruleIds": someOf(r, g.tenant.rules, 3)}
		if action == "UpdateIgnoreRule" {
			in = obj{"id": uuid(r), "patch": in}
		}
		return obj{"input": in, "selection": selection("ignoreRule", "id", "name")}
	case "CreateMalwareExclusion", "UpdateMalwareExclusion":
		in := obj{"name": "build-cache", "paths": someOf(r, []string{"/opt/*", "/var/cache/*", "/var/lib/docker/*", "/builds/*"}, 2), "fileHashes": list{}}
		if action == "UpdateMalwareExclusion" {
			in = obj{"id": uuid(r), "patch": in}
		}
		return obj{"input": in, "selection": selection("malwareExclusion", "id", "name")}
	case "CreateSAMLIdentityProvider", "UpdateSAMLIdentityProvider":
		in := obj{"name": "okta-corvid", "issuerURL": "http://www.okta.com/exk9w2hq4bXvT3Lp5697", "loginURL": "https://corvid-labs.okta.com/app/wiz/exk9w2hq4bXvT3Lp5697/sso/saml", "certificate": "<redacted>", "useProviderManagedRoles": chance(r, 0.5), "domains": list{domain}}
		if action == "UpdateSAMLIdentityProvider" {
			in = obj{"id": uuid(r), "patch": obj{"loginURL": in["loginURL"], "certificate": "<redacted>"}}
		}
		return obj{"input": in, "selection": selection("samlIdentityProvider", "id")}
	case "ModifySAMLIdentityProviderGroupMappings":
		return obj{"input": obj{"id": uuid(r), "patch": obj{"upsert": list{obj{"providerGroupId": pick(r, []string{"wiz-admins", "contractors", "secops"}), "role": pick(r, []string{"GLOBAL_ADMIN", "GLOBAL_READER", "PROJECT_MEMBER"}), "projects": list{}}}}}, "selection": selection("samlIdentityProvider", "id")}
	case "CreateServiceAccount":
		return obj{"input": obj{"name": pick(r, []string{"splunk-export", "temp-admin-export", "backstage-plugin"}), "scopes": someOf(r, []string{"read:all", "read:issues", "update:issues", "create:reports", "admin:users"}, 3), "assignedProjectIds": nil, "expiresAt": nil}, "selection": selection("serviceAccount", "id", "name", "clientId", "clientSecret", "scopes")}
	case "UpdateServiceAccount":
		return obj{"input": obj{"id": pick(r, g.tenant.services).id, "patch": obj{"scopes": someOf(r, []string{"read:all", "read:issues", "update:issues", "read:projects"}, 3)}}, "selection": selection("serviceAccount", "id", "scopes")}
	case "UpdateIPRestrictions":
		return obj{"input": obj{"serviceAccountAccessAllowedIPs": pick(r, []list{{"0.0.0.0/0"}, {"35.196.0.0/16", "52.14.0.0/16"}, {}}), "userAccessAllowedIPs": list{"198.51.100.0/24", "203.0.113.0/24"}}, "selection": selection("ipRestrictions", "userAccessAllowedIPs", "serviceAccountAccessAllowedIPs")}
	case "UpdateLoginSettings":
		return obj{"input": obj{"patch": obj{"approvedUserDomains": someOf(r, []string{domain, "corvid-labs.io", "gmail.com"}, 2)}}, "selection": selection("loginSettings", "approvedUserDomains")}
	case "UpdateScannerSettings":
		return obj{"input": obj{"patch": obj{"computeResourceGroupMemberScanSamplingEnabled": chance(r, 0.5), "maxComputeResourceGroupMemberScanCount": 1 + r.IntN(5), "prioritizeActiveComputeResourceGroupMembers": chance(r, 0.5)}}, "selection": selection("scannerSettings", "computeResourceGroupMemberScanSamplingEnabled", "maxComputeResourceGroupMemberScanCount")}
	case "UpdateSupportContactList":
		return obj{"input": obj{"patch": obj{"contacts": list{pick(r, g.tenant.users).name, "secops-oncall@" + domain}}}, "selection": selection("supportContactList", obj{"contacts": list{"__typename", "id"}})}
	case "CreateUser":
		first, last := pick(r, firstNames), pick(r, lastNames)
		return obj{"input": obj{"email": first + "." + last + "@" + domain, "name": strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:], "role": pick(r, []string{"GLOBAL_READER", "PROJECT_MEMBER", "GLOBAL_ADMIN"}), "assignedProjectIds": nil, "expiresAt": nil, "sendEmailInvite": true}, "selection": selection("user", "id")}
	case "UpdateUserRole":
		return obj{"input": obj{"id": uuid(r), "patch": obj{"scopes": someOf(r, []string{"read:all", "update:issues", "admin:users", "admin:connectors"}, 3)}}, "selection": selection("userRole", "id", "name", "scopes")}
	}
	return obj{"input": obj{"id": uuid(r)}, "selection": stubSelection}
}
