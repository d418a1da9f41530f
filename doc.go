// Package detect runs Panther-style detection rules over security logs.
//
// A rule is data: a condition in the expr language (https://expr-lang.org),
// compiled once into a cached program, plus Panther's metadata (severity,
// MITRE reports, runbook), a group-by key, a dedup period and threshold,
// and the output fields an alert carries.
//
// # The main path
//
// Rules come from Go literals compiled with [Compile] or [MustCompile], or
// from Panther-style YAML files read by [Load], [LoadFS] or a [Loader]
// (every problem reported with file:line:column). A compiled [Rule]
// answers for one event at a time:
//
//   - [Rule.Evaluate]: does the condition hold?
//   - [Rule.Match]: the condition, and for a match its title, dedup string,
//     severity and outputs.
//   - [Rule.RunTests]: the rule's own unit tests.
//
// An [Engine] ([NewEngine]) runs many rules over a stream of events: it
// routes each event by log type, groups matches into alerts per dedup
// window and threshold, turns a rule that fails on an event into a
// RULE_ERROR alert, and hands alerts to an [AlertSink] such as [NewAlertWriter].
// A [Scanner] feeds an engine from JSON lines.
//
//	rules, err := detect.Load("rules/")
//	if err != nil {
//		return err // a *LoadError: one *FileError per problem
//	}
//	eng, err := detect.NewEngine(rules, detect.WithSink(detect.NewAlertWriter(os.Stdout)))
//	if err != nil {
//		return err
//	}
//	for _, line := range lines {
//		eng.Process(line) // an error: the line is not a JSON object
//	}
//	return eng.Flush()
//
// # Extending
//
// Custom Go functions, shared named expressions and lookup tables are
// registered on a [Functions] set and given to [Compile] with
// [WithFunctions], or to a [Loader]. The package
// github.com/detectkit/detect/rules holds a ready-made rule pack, and
// github.com/detectkit/detect/detecttest runs a pack's YAML tests under
// go test.
//
// Compiled rules, engines and scanners are safe for concurrent use.
package detect
