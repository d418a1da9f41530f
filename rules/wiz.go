package rules

// The Wiz rule pack, loaded from the files in wiz/. Wiz.Audit rules fire on
// successful actions of the Wiz audit log; the passthrough rules raise
// Wiz's own open findings with Wiz's severity.

// WizAlertPassthrough raises open Wiz issues that are not informational, as
// the Wiz API lists them (log type Wiz.Issues), with Wiz's severity.
var WizAlertPassthrough = mustGet("Wiz.Alert.Passthrough")

// WizIssueAlertPassthrough raises open Wiz issues that are not
// informational, as a Wiz webhook sends them (log type Wiz.IssuesWebhook),
// with Wiz's severity.
var WizIssueAlertPassthrough = mustGet("Wiz.Issue.Alert.Passthrough")

// WizDefendAlertPassthrough raises Wiz Defend detections that are not
// informational (log type Wiz.Detections), with Wiz's severity.
var WizDefendAlertPassthrough = mustGet("Wiz.Defend.Alert.Passthrough")

// WizCICDScanPolicyUpdatedOrDeleted alerts when a CI/CD scan policy is
// updated or deleted.
var WizCICDScanPolicyUpdatedOrDeleted = mustGet("Wiz.CICD.Scan.Policy.Updated.Or.Deleted")

// WizConnectorUpdatedOrDeleted alerts when a cloud connector is updated or
// deleted.
var WizConnectorUpdatedOrDeleted = mustGet("Wiz.Connector.Updated.Or.Deleted")

// WizDataClassifierUpdatedOrDeleted alerts when a data classifier is
// updated or deleted.
var WizDataClassifierUpdatedOrDeleted = mustGet("Wiz.Data.Classifier.Updated.Or.Deleted")

// WizImageIntegrityValidatorUpdatedOrDeleted alerts when an image integrity
// validator is updated or deleted.
var WizImageIntegrityValidatorUpdatedOrDeleted = mustGet("Wiz.Image.Integrity.Validator.Updated.Or.Deleted")

// WizIntegrationUpdatedOrDeleted alerts when a Wiz integration (Slack,
// Jira, SIEM...) is updated or deleted.
var WizIntegrationUpdatedOrDeleted = mustGet("Wiz.Integration.Updated.Or.Deleted")

// WizRotateServiceAccountSecret alerts when the secret of a service account
// is rotated.
var WizRotateServiceAccountSecret = mustGet("Wiz.Rotate.Service.Account.Secret")

// WizRuleChange alerts when a Wiz rule (automation, cloud event, cloud or
// host configuration, ignore rule, malware exclusion) is changed: High for
// deletions, Low for creations.
var WizRuleChange = mustGet("Wiz.Rule.Change")

// WizSAMLIdentityProviderChange alerts when a SAML identity provider is
// created, updated or deleted.
var WizSAMLIdentityProviderChange = mustGet("Wiz.SAML.Identity.Provider.Change")

// WizServiceAccountChange alerts when a service account is created, updated
// or deleted.
var WizServiceAccountChange = mustGet("Wiz.Service.Account.Change")

// WizUpdateIPRestrictions alerts when the IP restrictions of the Wiz tenant
// are changed.
var WizUpdateIPRestrictions = mustGet("Wiz.Update.IP.Restrictions")

// WizUpdateLoginSettings alerts when the login settings of the Wiz tenant
// are changed.
var WizUpdateLoginSettings = mustGet("Wiz.Update.Login.Settings")

// WizUpdateScannerSettings alerts when the scanner settings are changed.
var WizUpdateScannerSettings = mustGet("Wiz.Update.Scanner.Settings")

// WizUpdateSupportContactList alerts when the support contact list is
// changed.
var WizUpdateSupportContactList = mustGet("Wiz.Update.Support.Contact.List")

// WizUserCreatedOrDeleted alerts when a Wiz user is created or deleted.
var WizUserCreatedOrDeleted = mustGet("Wiz.User.Created.Or.Deleted")

// WizUserRoleUpdatedOrDeleted alerts when a user role is updated or
// deleted: High for deletions.
var WizUserRoleUpdatedOrDeleted = mustGet("Wiz.User.Role.Updated.Or.Deleted")
