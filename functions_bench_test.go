package detect

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

var benchSink bool

func isInternalIP(ip string) bool { return strings.HasPrefix(ip, "10.") }

// BenchmarkFunctionCall compares calling a Go function from a detect rule
// with calling it from expr alone, where expr.Function registers it (the
// baseline), all in one run:
//
//   - call/...: isInternal("10.1.2.3"), the call alone. The expr and
//     detect programs run in the same loop on a reused VM, so the
//     difference is what detect adds to the call itself.
//   - field/...: the argument is the field ip. detect reads fields with a
//     function (case-insensitive, nil-safe), expr with its own opcode; the
//     builtin and operator rows do the same test without a Go function.
//   - rule/...: Rule.Evaluate on a decoded event, everything included.
func BenchmarkFunctionCall(b *testing.B) {
	env := map[string]any{"ip": "10.1.2.3", "action": "login"}
	variadic := func(args ...any) (any, error) {
		s, _ := args[0].(string)
		return isInternalIP(s), nil
	}
	fns := NewFunctions()
	if err := fns.Register("isInternal", variadic, new(func(string) bool)); err != nil {
		b.Fatal(err)
	}
	if err := fns.RegisterFunc("isInternalTyped", isInternalIP); err != nil {
		b.Fatal(err)
	}
	if err := fns.RegisterFunc("isInternalReflect", func(ip string, _ int) bool { return isInternalIP(ip) }); err != nil {
		b.Fatal(err)
	}
	exprProgram := func(source string) *vm.Program {
		p, err := expr.Compile(source, expr.Env(env),
			expr.Function("isInternal", variadic, new(func(string) bool)))
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	detectProgram := func(source string) *vm.Program {
		p, e := compileCached(source, kindBool, fns, Limits{}.withDefaults())
		if e != nil {
			b.Fatal(e.Msg)
		}
		if p.direct != nil {
			b.Fatalf("%s runs without the VM", source)
		}
		return p.prog
	}
	run := func(p *vm.Program) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			var m vm.VM
			for b.Loop() {
				out, err := m.Run(p, env)
				if err != nil || out != true {
					b.Fatal(out, err)
				}
				benchSink = out.(bool)
			}
		}
	}

	b.Run("call/expr.Function", run(exprProgram(`isInternal("10.1.2.3")`)))
	b.Run("call/Register", run(detectProgram(`isInternal("10.1.2.3")`)))
	b.Run("call/RegisterFunc", run(detectProgram(`isInternalTyped("10.1.2.3")`)))
	b.Run("call/RegisterFunc/reflection", run(detectProgram(`isInternalReflect("10.1.2.3", 0)`)))

	b.Run("field/expr.Function", run(exprProgram(`isInternal(ip)`)))
	b.Run("field/expr.Function/expr.Run", func(b *testing.B) {
		p := exprProgram(`isInternal(ip)`)
		b.ReportAllocs()
		for b.Loop() {
			out, err := expr.Run(p, env)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = out.(bool)
		}
	})
	b.Run("field/expr/operator", run(exprProgram(`ip startsWith "10."`)))
	b.Run("field/Register", run(detectProgram(`isInternal(ip)`)))
	b.Run("field/RegisterFunc", run(detectProgram(`isInternalTyped(ip)`)))
	b.Run("field/builtin", run(detectProgram(`hasPrefix(ip, "10.")`)))

	for _, bc := range []struct{ name, cond string }{
		{"rule/RegisterFunc", `isInternalTyped(ip)`},
		{"rule/builtin", `hasPrefix(ip, "10.")`},
		{"rule/operator", `ip startsWith "10."`},
	} {
		b.Run(bc.name, func(b *testing.B) { benchCondition(b, bc.cond, fns, env) })
	}
	b.Run("rule/RegisterFunc/parallel", func(b *testing.B) {
		r := MustCompile(&Rule{Severity: SeverityInfo, ID: "Bench", Condition: `isInternalTyped(ip)`}, WithFunctions(fns))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ok, err := r.Evaluate(env); err != nil || !ok {
					panic("no match")
				}
			}
		})
	})
}

// BenchmarkLibrary measures library functions in conditions, on a decoded
// event.
func BenchmarkLibrary(b *testing.B) {
	fns := NewFunctions()
	admins, _ := NewTable("admins", "user")
	if err := admins.Set(map[string]map[string]any{"alice": {"team": "security"}}); err != nil {
		b.Fatal(err)
	}
	if err := fns.AddTable(admins); err != nil {
		b.Fatal(err)
	}
	env := map[string]any{
		"ip": "10.1.2.3", "nets": []any{"192.168.0.0/16", "10.0.0.0/8"}, "path": "/usr/bin/curl",
		"action": "DeleteBucket", "user": "alice", "ts": "2024-03-11T04:30:00Z",
	}
	for _, bc := range []struct{ name, cond string }{
		{"inCIDR/constant", `inCIDR(ip, ["192.168.0.0/16", "10.0.0.0/8"])`},
		{"inCIDR/field", `inCIDR(ip, nets)`},
		{"isPrivateIP", `isPrivateIP(ip)`},
		{"glob/constant", `glob(path, "*/bin/*")`},
		{"equalFold", `equalFold(action, "deletebucket")`},
		{"equalFold/list", `equalFold(action, ["putobject", "deletebucket"])`},
		{"inLookup", `inLookup("admins", user)`},
		{"lookup.field", `lookup("admins", user).team == "security"`},
		{"hourOf", `hourOf(ts) < 6`},
	} {
		b.Run(bc.name, func(b *testing.B) { benchCondition(b, bc.cond, fns, env) })
	}
}

// benchCondition measures a condition, compiled with fns, that holds on env.
func benchCondition(b *testing.B, cond string, fns *Functions, env map[string]any) {
	r := MustCompile(&Rule{Severity: SeverityInfo, ID: "Bench", Condition: cond}, WithFunctions(fns))
	b.ReportAllocs()
	for b.Loop() {
		ok, err := r.Evaluate(env)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		benchSink = ok
	}
}
