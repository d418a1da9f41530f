package detect

import (
	"strings"
	"testing"
)

// TestDetection translates match expressions and evaluates them on events,
// with Panther's semantics for missing data.
func TestDetection(t *testing.T) {
	event := `{
		"name": "Admin-Root", "count": 12, "ratio": 0.5, "ok": true, "nothing": null, "empty": "",
		"none": [], "tags": ["a", "b"], "type": "t", "a b": "spaced", "limit": 10,
		"user": {"name": "alice", "groups": [{"id": 1, "name": "ops"}, {"id": 2, "name": "dev"}]}
	}`
	tests := []struct {
		name      string
		detection string // the YAML list under Detection:
		want      bool
		condition string // the translated condition, when worth checking
	}{
		{"equals", `[{Key: name, Condition: Equals, Value: Admin-Root}]`, true, `name == "Admin-Root"`},
		{"equals number", `[{Key: count, Condition: Equals, Value: 12.0}]`, true, `$env.count == 12.0`},
		{"does not equal missing", `[{Key: missing, Condition: DoesNotEqual, Value: x}]`, true, ""},
		{"equals null", `[{Key: nothing, Condition: Equals, Value: null}]`, true, `nothing == nil`},
		{"iequals", `[{Key: name, Condition: IEquals, Value: admin-root}]`, true, ""},
		{"idoesnotequal", `[{Key: name, Condition: IDoesNotEqual, Value: ADMIN-ROOT}]`, false, ""},
		{"iequals a number", `[{Key: count, Condition: IEquals, Value: "12"}]`, false, ""},
		{"greater", `[{Key: count, Condition: IsGreaterThan, Value: 11}]`, true, `$env.count > 11`},
		{"greater or equal", `[{Key: count, Condition: IsGreaterThanOrEquals, Value: 12}]`, true, ""},
		{"less", `[{Key: ratio, Condition: IsLessThan, Value: 1}]`, true, ""},
		{"less or equal", `[{Key: ratio, Condition: IsLessThanOrEquals, Value: 0.25}]`, false, ""},
		{"greater on missing", `[{Key: missing, Condition: IsGreaterThan, Value: 1}]`, false, ""},
		{"starts with", `[{Key: name, Condition: StartsWith, Value: Admin}]`, true, ""},
		{"ends with", `[{Key: name, Condition: EndsWith, Value: Root}]`, true, ""},
		{"contains", `[{Key: name, Condition: Contains, Value: "n-R"}]`, true, ""},
		{"does not contain", `[{Key: name, Condition: DoesNotContain, Value: x}]`, true, ""},
		{"does not start with missing", `[{Key: missing, Condition: DoesNotStartWith, Value: x}]`, true, ""},
		{"does not end with", `[{Key: name, Condition: DoesNotEndWith, Value: Root}]`, false, ""},
		{"istartswith", `[{Key: name, Condition: IStartsWith, Value: ADMIN}]`, true, ""},
		{"iendswith", `[{Key: name, Condition: IEndsWith, Value: ROOT}]`, true, ""},
		{"icontains", `[{Key: name, Condition: IContains, Value: N-r}]`, true, ""},
		{"idoesnotcontain", `[{Key: name, Condition: IDoesNotContain, Value: N-r}]`, false, ""},
		{"is in", `[{Key: name, Condition: IsIn, Values: [x, Admin-Root]}]`, true, `name in ["x", "Admin-Root"]`},
		{"is not in", `[{Key: count, Condition: IsNotIn, Values: [1, 2]}]`, true, `!($env.count in [1, 2])`},
		{"is in on missing", `[{Key: missing, Condition: IsIn, Values: [x]}]`, false, ""},
		{"exists", `[{Key: name, Condition: Exists}]`, true, `name != nil`},
		{"does not exist", `[{Key: missing, Condition: DoesNotExist}]`, true, ""},
		{"is null", `[{Key: nothing, Condition: IsNull}]`, true, ""},
		{"is not null", `[{Key: ok, Condition: IsNotNull}]`, true, ""},
		{"null or empty string", `[{Key: empty, Condition: IsNullOrEmpty}]`, true, ""},
		{"null or empty list", `[{Key: none, Condition: IsNullOrEmpty}]`, true, ""},
		{"null or empty missing", `[{Key: missing, Condition: IsNullOrEmpty}]`, true, ""},
		{"null or empty number", `[{Key: count, Condition: IsNullOrEmpty}]`, false, ""},
		{"not null or empty", `[{Key: tags, Condition: IsNotNullOrEmpty}]`, true, ""},
		{"always true", `[{Condition: AlwaysTrue}]`, true, `true`},
		{"always false", `[{Condition: AlwaysFalse}]`, false, `false`},
		{"key path", `[{KeyPath: "user.groups[1].name", Condition: Equals, Value: dev}]`, true, `user.groups[1].name == "dev"`},
		{"deep key", `[{DeepKey: [user, groups, 0, id], Condition: Equals, Value: 1}]`, true, `user.groups[0].id == 1`},
		{"odd names", `[{Key: "a b", Condition: Equals, Value: spaced}]`, true, `$env["a b"] == "spaced"`},
		{"built-in names", `[{Key: type, Condition: Equals, Value: t}]`, true, `$env.type == "t"`},
		{"keyword names", `[{KeyPath: a.in, Condition: Exists}]`, false, `a["in"] != nil`},
		{"case-insensitive key", `[{KeyPath: USER.NAME, Condition: Equals, Value: alice}]`, true, ""},
		{"two keys", `[{Condition: IsGreaterThan, Values: [{Key: count}, {Key: limit}]}]`, true, `$env.count > limit`},
		{"two keys ignoring case", `[{Condition: IEquals, Values: [{KeyPath: user.name}, {Key: name}]}]`, false, ""},
		{"any element", `[{KeyPath: user.groups, Condition: AnyElement, Expressions: [{Key: name, Condition: Equals, Value: dev}]}]`, true,
			`any(user.groups, #.name == "dev")`},
		{"all elements", `[{KeyPath: user.groups, Condition: AllElements, Expressions: [{Key: id, Condition: IsLessThan, Value: 3}]}]`, true, ""},
		{"no element", `[{KeyPath: user.groups, Condition: NoElement, Expressions: [{Key: id, Condition: Equals, Value: 2}]}]`, false, ""},
		{"only one element", `[{KeyPath: user.groups, Condition: OnlyOneElement, Expressions: [{Key: id, Condition: Equals, Value: 2}]}]`, true, ""},
		{"elements of missing", `[{Key: missing, Condition: AnyElement, Expressions: [{Key: id, Condition: Exists}]}]`, false, ""},
		{"all", `[{All: [{Key: ok, Condition: Equals, Value: true}, {Key: count, Condition: IsGreaterThan, Value: 20}]}]`, false, ""},
		{"any", `[{Any: [{Key: ok, Condition: Equals, Value: false}, {Key: count, Condition: IsGreaterThan, Value: 10}]}]`, true,
			`ok == false || $env.count > 10`},
		{"only one", `[{OnlyOne: [{Key: ok, Condition: Equals, Value: true}, {Key: count, Condition: IsGreaterThan, Value: 10}]}]`, false,
			`one([ok == true, $env.count > 10], #)`},
		{"none", `[{None: [{Key: ok, Condition: Equals, Value: false}, {Key: count, Condition: IsGreaterThan, Value: 20}]}]`, true,
			`!(ok == false || $env.count > 20)`},
		{"list is all", `[{Key: ok, Condition: Equals, Value: true}, {Any: [{Key: a, Condition: Exists}, {Key: b, Condition: Exists}]}]`, false,
			`ok == true && (a != nil || b != nil)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := loadOne(t, ruleHeader+"Detection: "+tt.detection+"\n")
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if tt.condition != "" && r.Condition != tt.condition {
				t.Errorf("condition = %s; want %s", r.Condition, tt.condition)
			}
			got, err := r.Evaluate(event)
			if err != nil || got != tt.want {
				t.Errorf("Evaluate(%s) = %v, %v; want %v", r.Condition, got, err, tt.want)
			}
		})
	}
}

// TestDetectionErrors checks that match expressions detect cannot run are
// reported at their place.
func TestDetectionErrors(t *testing.T) {
	tests := []struct {
		name, detection, want string // want: line:column and part of the message
	}{
		{"not a list", `{Key: a, Condition: Exists}`, "6:12: Detection must be a list"},
		{"empty list", `[]`, "6:12: Detection is an empty list"},
		{"unknown key", `[{Key: a, Condition: Exists, Kye: b}]`, `6:41: unknown key "Kye"`},
		{"no condition", `[{Key: a, Value: b}]`, "6:13: a match expression needs a Condition"},
		{"unknown condition", `[{Key: a, Condition: Is}]`, `6:33: unknown Condition "Is"`},
		{"ip condition", `[{Key: a, Condition: IsIPAddressPrivate}]`, "6:33: Condition IsIPAddressPrivate is not supported"},
		{"value missing", `[{Key: a, Condition: Equals}]`, "6:13: Condition Equals needs a Value"},
		{"values missing", `[{Key: a, Condition: IsIn}]`, "6:13: Condition IsIn needs Values"},
		{"values not a list", `[{Key: a, Condition: IsIn, Values: x}]`, "6:47: Values must be a list"},
		{"value not scalar", `[{Key: a, Condition: Equals, Value: [x]}]`, "6:48: a Value must be a string"},
		{"ordered value", `[{Key: a, Condition: IsLessThan, Value: true}]`, "6:52: Condition IsLessThan needs a number or string Value"},
		{"extra value", `[{Key: a, Condition: Exists, Value: x}]`, "6:41: Condition Exists takes no Value"},
		{"no key", `[{Condition: Equals, Value: x}]`, "6:13: missing the key to read"},
		{"two keys", `[{Key: a, KeyPath: b, Condition: Exists}]`, "6:22: Key and KeyPath both name a key"},
		{"combinator with more", `[{Any: [{Condition: AlwaysTrue}], Key: a}]`, "6:13: a match expression with Any has no other keys"},
		{"expressions missing", `[{Key: a, Condition: AnyElement}]`, "6:13: Condition AnyElement needs Expressions"},
		{"key path index", `[{KeyPath: "a[x]", Condition: Exists}]`, `6:23: KeyPath "a[x]": index "x" is not a whole number`},
		{"key path empty name", `[{KeyPath: a..b, Condition: Exists}]`, `6:23: KeyPath "a..b": has an empty key name`},
		{"two keys wrong count", `[{Condition: Equals, Values: [{Key: a}]}]`, "6:41: Values of Condition Equals must list two keys"},
		{"key and values", `[{Key: a, Condition: Equals, Values: [{Key: a}, {Key: b}]}]`, "6:41: Condition Equals compares two keys listed in Values"},
		{"not a mapping", `[Key]`, "6:13: a match expression must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadOne(t, ruleHeader+"Detection: "+tt.detection+"\n")
			pos, msg, _ := strings.Cut(tt.want, ": ")
			if err == nil || !strings.Contains(err.Error(), "rule.yml:"+pos+": rule Test.Rule: "+msg) {
				t.Errorf("load(Detection: %s) = %v; want a problem at rule.yml:%s", tt.detection, err, tt.want)
			}
		})
	}
}

// TestDetectionWithFunctionNames checks that a field named like a function
// of the rule's set is read as a field.
func TestDetectionWithFunctionNames(t *testing.T) {
	r, err := loadOne(t, ruleHeader+"Detection: [{Key: actor, Condition: Equals, Value: x}]\n",
		"AnalysisType: global\nGlobalID: g\nDefinitions:\n  actor: user.name\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := `$env.actor == "x"`; r.Condition != want {
		t.Errorf("condition = %s; want %s", r.Condition, want)
	}
	if ok, err := r.Evaluate(`{"actor": "x"}`); !ok || err != nil {
		t.Errorf("Evaluate = %v, %v; want true", ok, err)
	}
}
