package detect

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

var benchSink bool

func isInternalIP(ip string) bool { return strings.HasPrefix(ip, "10.") }

// BenchmarkFunctionCall compares a rule calling a Go function with expr
// calling the same function directly (the baseline), and with the same
// logic written with an expr builtin or operator. Every variant reads the
// field ip of the same event and tests its prefix.
func BenchmarkFunctionCall(b *testing.B) {
	env := map[string]any{"ip": "10.1.2.3", "action": "login"}
	variadic := func(args ...any) (any, error) {
		s, _ := args[0].(string)
		return isInternalIP(s), nil
	}

	// Baselines: expr on its own, with expr.Function.
	exprProg, err := expr.Compile(`isInternal(ip)`, expr.Env(env),
		expr.Function("isInternal", variadic, new(func(string) bool)))
	if err != nil {
		b.Fatal(err)
	}
	exprOp, err := expr.Compile(`ip startsWith "10."`, expr.Env(env))
	if err != nil {
		b.Fatal(err)
	}
	runExpr := func(p *vm.Program) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			var m vm.VM
			for b.Loop() {
				out, err := m.Run(p, env)
				if err != nil {
					b.Fatal(err)
				}
				benchSink = out.(bool)
			}
		}
	}
	b.Run("expr/Function", runExpr(exprProg))
	b.Run("expr/Function/expr.Run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := expr.Run(exprProg, env)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = out.(bool)
		}
	})
	b.Run("expr/operator", runExpr(exprOp))

	// detect: the same call through a rule.
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
	for _, bc := range []struct{ name, cond string }{
		{"detect/Register", `isInternal(ip)`},
		{"detect/RegisterFunc", `isInternalTyped(ip)`},
		{"detect/RegisterFunc/reflection", `isInternalReflect(ip, 0)`},
		{"detect/builtin", `hasPrefix(ip, "10.")`},
		{"detect/operator", `ip startsWith "10."`},
	} {
		r := MustCompile(&Rule{ID: "Bench", Condition: bc.cond}, WithFunctions(fns))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ok, err := r.Evaluate(env)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				benchSink = ok
			}
		})
	}
	b.Run("detect/RegisterFunc/parallel", func(b *testing.B) {
		r := MustCompile(&Rule{ID: "Bench", Condition: `isInternalTyped(ip)`}, WithFunctions(fns))
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
		r := MustCompile(&Rule{ID: "Bench", Condition: bc.cond}, WithFunctions(fns))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ok, err := r.Evaluate(env)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				benchSink = ok
			}
		})
	}
}
