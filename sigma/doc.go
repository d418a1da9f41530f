// Package sigma runs Sigma rules (the Sigma specification v2.1) in
// detect's engine: a rule file becomes detect rules whose conditions are
// expressions, so that they are evaluated, routed and turned into alerts
// as Panther-style rules are.
//
// Values match as the specification says: text ignoring case unless
// cased, the wildcards * and ? with their backslash escapes, lists ORed
// and maps ANDed, null as a missing field, keywords over every text of the
// event, and the modifiers of the specification's appendix. A Pipeline
// maps a rule's log source to detect log types and to the conditions that
// select its events, and Sigma's field names to event paths; the built-in
// Windows pipeline reads Windows event log records in their JSON shape
// (Event.System, Event.EventData).
//
//	rules, err := sigma.Load(sigma.Options{}, "rules/windows")
//	engine, err := detect.NewEngine(rules, detect.WithSink(sink))
//
// docs/sigma.md says what is supported and what is not yet.
package sigma
