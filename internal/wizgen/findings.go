package wizgen

import (
	"fmt"
	"time"
)

// Findings are Wiz's own alerts, in three shapes: issues as the Wiz API
// lists them (Wiz.Issues), issues as a Wiz webhook sends them
// (Wiz.IssuesWebhook) and Wiz Defend detections (Wiz.Detections).

// control is a Wiz control or configuration rule that raises issues.
type control struct {
	typename    string // Control or CloudConfigurationRule
	id, name    string
	description string
	remediation string
	categories  []string // MITRE or Wiz sub-categories
	on          []int    // the resources it applies to, indexes in resources
}

var controls = []control{
	{"Control", "wc-id-1841", "Publicly exposed VM with a high severity network vulnerability and an admin role",
		"This VM is reachable from the internet, has a vulnerability that can be exploited over the network, and its role grants administrative permissions.",
		"Patch the vulnerable package, restrict inbound access, and replace the role with a least-privilege role.",
		[]string{"T1190 Exploit Public-Facing Application", "Lateral movement to cloud control plane"}, []int{0, 1, 6}},
	{"Control", "wc-id-2207", "Publicly exposed VM with SSH open to the internet and a leaked private key",
		"An SSH private key that grants access to this VM was found on another resource, and the VM accepts SSH connections from any address.",
		"Rotate the key pair, remove the private key from where it was found, and restrict port 22 to known addresses.",
		[]string{"T1552.004 Unsecured Credentials: Private Keys"}, []int{0, 1}},
	{"Control", "wc-id-918", "Kubernetes cluster API server is publicly accessible",
		"The API server endpoint of this cluster accepts connections from the internet.",
		"Restrict the API server endpoint to private access or to authorized networks.",
		[]string{"External exposure"}, []int{4}},
	{"Control", "wc-id-672", "VM with an end-of-life operating system",
		"The operating system of this VM no longer receives security updates from its vendor.",
		"Upgrade the VM to a supported operating system version.",
		[]string{"Unsupported software"}, []int{0, 1, 6}},
	{"Control", "wc-id-1420", "Container image with a critical vulnerability that has a known exploit",
		"A package in this image has a critical vulnerability with a public exploit.",
		"Rebuild the image on a patched base image and redeploy the workloads that use it.",
		[]string{"T1203 Exploitation for Client Execution"}, []int{7}},
	{"CloudConfigurationRule", "ccr-s3-public-read", "S3 bucket allows public read access to objects",
		"The bucket policy or ACL grants read access to everyone.",
		"Enable S3 Block Public Access on the bucket and remove public grants from its policy and ACLs.",
		nil, []int{2}},
	{"CloudConfigurationRule", "ccr-iam-user-no-mfa", "IAM user with console access has no MFA device",
		"This IAM user can sign in to the AWS console with a password alone.",
		"Enable an MFA device for the user, or remove its console password.",
		nil, []int{3}},
	{"CloudConfigurationRule", "ccr-storage-no-lifecycle", "Storage account without a lifecycle policy",
		"Blobs in this storage account are kept forever.",
		"Add a lifecycle management policy that expires blobs after the retention period.",
		nil, []int{5}},
}

// resource is a cloud resource that findings are about.
type resource struct {
	platform, wizType, nativeType string
	name, externalID, region      string
	account, accountName          string
	consoleURL                    string
}

var resources = []resource{
	{"AWS", "VIRTUAL_MACHINE", "virtualMachine", "jenkins-build-03", "arn:aws:ec2:us-east-1:471112936218:instance/i-0b8e2f5a71c934d06", "us-east-1", "471112936218", "corvid-prod", "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#InstanceDetails:instanceId=i-0b8e2f5a71c934d06"},
	{"AWS", "VIRTUAL_MACHINE", "virtualMachine", "bastion-eu-2", "arn:aws:ec2:eu-central-1:471112936218:instance/i-07d2b9c41fe8a3365", "eu-central-1", "471112936218", "corvid-prod", "https://eu-central-1.console.aws.amazon.com/ec2/home?region=eu-central-1#InstanceDetails:instanceId=i-07d2b9c41fe8a3365"},
	{"AWS", "BUCKET", "bucket", "corvid-exports-eu", "arn:aws:s3:::corvid-exports-eu", "eu-west-1", "902381554716", "corvid-data", "https://s3.console.aws.amazon.com/s3/buckets/corvid-exports-eu"},
	{"AWS", "USER_ACCOUNT", "iamUser", "ci-deployer", "arn:aws:iam::471112936218:user/ci-deployer", "us-east-1", "471112936218", "corvid-prod", ""},
	{"Azure", "KUBERNETES_CLUSTER", "kubernetesCluster", "aks-payments-westeu", "/subscriptions/8f14e45f-ceea-467f-a8f5-3ae2c6d1b409/resourceGroups/payments/providers/Microsoft.ContainerService/managedClusters/aks-payments-westeu", "westeurope", "8f14e45f-ceea-467f-a8f5-3ae2c6d1b409", "payments-prod", ""},
	{"Azure", "BUCKET", "storageAccount", "corvidlogsarchive", "/subscriptions/8f14e45f-ceea-467f-a8f5-3ae2c6d1b409/resourceGroups/logs/providers/Microsoft.Storage/storageAccounts/corvidlogsarchive", "northeurope", "8f14e45f-ceea-467f-a8f5-3ae2c6d1b409", "payments-prod", ""},
	{"GCP", "VIRTUAL_MACHINE", "virtualMachine", "ml-train-a100-04", "//compute.googleapis.com/projects/analytics-prod-4417/zones/us-central1-a/instances/ml-train-a100-04", "us-central1", "analytics-prod-4417", "analytics-prod", "https://console.cloud.google.com/compute/instancesDetail/zones/us-central1-a/instances/ml-train-a100-04?project=analytics-prod-4417"},
	{"AWS", "CONTAINER_IMAGE", "containerImage", "checkout-api:2025.03.1", "471112936218.dkr.ecr.us-east-1.amazonaws.com/checkout-api@sha256:5f1d0c7e9a3b", "us-east-1", "471112936218", "corvid-prod", ""},
}

// detectionKind is a kind of Wiz Defend detection.
type detectionKind struct {
	title, tdrID, source, description string
	actorType, actorName              string
	tactics, techniques               []string
	on                                []int // the resources it happens on, indexes in resources
}

var detectionKinds = []detectionKind{
	{"Crypto miner executed in a container", "wiz-sensor-crypto-miner-process", "WIZ_SENSOR",
		"A process whose binary matches a known cryptocurrency miner was started in a container.",
		"PROCESS", "/dev/shm/.cache/xmrig", []string{"TA0040"}, []string{"TA0040-T1496"}, []int{0, 6, 7}},
	{"Access key used from a Tor exit node", "cer-awscloudtrail-access-key-used-from-tor", "AUDIT_LOGS",
		"An IAM access key made API calls from an IP address of the Tor network.",
		"USER_ACCOUNT", "ci-deployer", []string{"TA0001"}, []string{"TA0001-T1078.004"}, []int{3}},
	{"Recon:EC2/PortProbeUnprotectedPort", "cer-awsguardduty-recon-ec2-portprobeunprotectedport", "GUARD_DUTY",
		"An EC2 instance has an unprotected port that is being probed by a known malicious host.",
		"NETWORK_ADDRESS", "185.220.101.34", []string{"TA0043"}, []string{"TA0043-T1595"}, []int{0, 1}},
	{"Reverse shell opened from a web server process", "wiz-sensor-reverse-shell", "WIZ_SENSOR",
		"A shell started by a web server process connected back to an external address.",
		"PROCESS", "/bin/bash", []string{"TA0002", "TA0011"}, []string{"TA0002-T1059.004", "TA0011-T1071"}, []int{0, 1}},
	{"Unusual volume of secrets read", "cer-awscloudtrail-mass-secret-retrieval", "AUDIT_LOGS",
		"A principal read many Secrets Manager secrets in a short time.",
		"USER_ACCOUNT", "vuln-report-lambda-role", []string{"TA0006"}, []string{"TA0006-T1555.006"}, []int{3}},
}

var (
	findingSeverities = weighted[string]{{"CRITICAL", 8}, {"HIGH", 22}, {"MEDIUM", 30}, {"LOW", 25}, {"INFORMATIONAL", 15}}
	issueStatuses     = weighted[string]{{"OPEN", 70}, {"IN_PROGRESS", 8}, {"RESOLVED", 17}, {"REJECTED", 5}}
)

type weighted[T any] []struct {
	v T
	w int
}

func (ws weighted[T]) pick(g *generator) T {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	n := g.r.IntN(total)
	for _, x := range ws {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return ws[len(ws)-1].v
}

// finding returns a Wiz finding, in the three shapes in turn.
func (g *generator) finding(at time.Time) obj {
	g.findings++
	switch g.findings % 3 {
	case 1:
		return g.apiIssue(at)
	case 2:
		return g.webhookIssue(at)
	default:
		return g.detection(at)
	}
}

func (g *generator) apiIssue(at time.Time) obj {
	c := pick(g.r, controls)
	res := resources[pick(g.r, c.on)]
	status := issueStatuses.pick(g)
	created := at.Add(-time.Duration(g.r.IntN(6*3600)) * time.Second)
	rule := obj{"__typename": c.typename, "id": c.id, "name": c.name}
	issueType := "TOXIC_COMBINATION"
	if c.typename == "Control" {
		rule["controlDescription"] = c.description
		rule["resolutionRecommendation"] = c.remediation
		cats := list{}
		for _, t := range c.categories {
			cats = append(cats, obj{"title": t, "category": obj{"name": "Threats", "framework": obj{"name": "Wiz for Risk Assessment"}}})
		}
		rule["securitySubCategories"] = cats
	} else {
		rule["cloudConfigurationRuleDescription"] = c.description
		rule["remediationInstructions"] = c.remediation
		issueType = "CLOUD_CONFIGURATION"
	}
	changed := created
	if status != "OPEN" {
		changed = at
	}
	return obj{
		"id":              uuid(g.r),
		"type":            issueType,
		"status":          status,
		"severity":        findingSeverities.pick(g),
		"createdAt":       created.Format(isoMilli),
		"updatedAt":       at.Format(isoMilli),
		"statusChangedAt": changed.Format(isoMilli),
		"dueAt":           nil,
		"sourceRule":      rule,
		"entitySnapshot": obj{
			"id": uuid(g.r), "type": res.wizType, "nativeType": res.nativeType, "name": res.name,
			"cloudPlatform": res.platform, "region": res.region, "subscriptionExternalId": res.account,
			"subscriptionName": res.accountName, "externalId": res.externalID, "providerId": res.externalID,
			"cloudProviderURL": res.consoleURL, "resourceGroupExternalId": "", "tags": obj{"env": "prod"},
		},
		"projects":       list{obj{"id": pick(g.r, g.tenant.projects), "name": "Platform", "slug": "platform", "businessUnit": "Engineering", "riskProfile": obj{"businessImpact": "HBI"}}},
		"notes":          list{},
		"serviceTickets": list{},
		"p_log_type":     LogTypeIssues,
		"p_event_time":   at.Format(isoMicro),
	}
}

func (g *generator) webhookIssue(at time.Time) obj {
	c := pick(g.r, controls)
	res := resources[pick(g.r, c.on)]
	status := issueStatuses.pick(g)
	trigger := "Created"
	switch status {
	case "RESOLVED":
		trigger = "Resolved"
	case "IN_PROGRESS", "REJECTED":
		trigger = "Updated"
	}
	resID := ""
	if g.r.IntN(3) > 0 {
		resID = uuid(g.r)
	}
	ctl := obj{"id": c.id, "name": c.name, "description": c.description, "severity": findingSeverities.pick(g), "risks": list{"EXTERNAL_EXPOSURE"}}
	if chance(g.r, 0.7) {
		ctl["resolutionRecommendation"] = c.remediation
	}
	return obj{
		"trigger": obj{"source": "ISSUE", "type": trigger, "ruleId": "5d0c2a8e-7f41-4c1b-9a36-2be8f0d4c917", "ruleName": "siem-issues-webhook"},
		"issue": obj{"id": uuid(g.r), "status": status, "severity": ctl["severity"],
			"created": at.Add(-time.Duration(g.r.IntN(600)) * time.Second).Format(isoMilli), "projects": "Platform"},
		"resource": obj{"id": resID, "name": res.name, "type": res.nativeType, "cloudPlatform": res.platform, "region": res.region,
			"status": "Active", "subscriptionId": res.account, "subscriptionName": res.accountName, "cloudProviderURL": res.consoleURL},
		"control":      ctl,
		"p_log_type":   LogTypeIssuesWebhook,
		"p_event_time": at.Format(isoMicro),
	}
}

func (g *generator) detection(at time.Time) obj {
	k := pick(g.r, detectionKinds)
	res := resources[pick(g.r, k.on)]
	threat := uuid(g.r)
	actor := obj{"externalId": k.actorName, "id": uuid(g.r), "name": k.actorName, "type": k.actorType}
	account := obj{"cloudPlatform": res.platform, "externalId": res.account, "id": uuid(g.r), "name": res.accountName}
	primary := obj{"cloudAccount": account, "externalId": res.externalID, "id": uuid(g.r), "name": res.name,
		"nativeType": res.nativeType, "region": res.region, "type": res.wizType, "status": "Active"}
	events := list{}
	for range 1 + g.r.IntN(3) {
		events = append(events, obj{
			"id": uuid(g.r), "name": k.title, "origin": k.source, "category": "Detection", "description": k.description,
			"eventTime": at.Add(-time.Duration(60+g.r.IntN(600)) * time.Second).Format(isoMilli),
			"actor":     actor, "resources": list{primary}, "status": "Success",
		})
	}
	return obj{
		"id":        uuid(g.r),
		"threatId":  threat,
		"threatURL": fmt.Sprintf("https://app.wiz.io/issues#~(issue~'%s)", threat),
		"title":     k.title, "description": k.description,
		"severity": findingSeverities.pick(g),
		"tdrId":    k.tdrID, "tdrSource": k.source,
		"createdAt":             at.Format(isoMilli),
		"mitreTactics":          k.tactics,
		"mitreTechniques":       k.techniques,
		"primaryActor":          actor,
		"actors":                list{actor},
		"primaryResource":       primary,
		"resources":             list{primary},
		"cloudAccounts":         list{account},
		"trigger":               obj{"source": "DETECTIONS", "type": "Created", "ruleId": "e2b7c4f0-13a9-4d5e-8f62-9c0a7b1d3e58", "ruleName": "siem-defend-detections"},
		"triggeringEventsCount": len(events),
		"triggeringEvents":      events,
		"p_log_type":            LogTypeDetections,
		"p_event_time":          at.Format(isoMicro),
	}
}
