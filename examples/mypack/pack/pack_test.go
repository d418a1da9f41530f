package pack

import (
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/detecttest"
)

// TestRules runs the Tests of every rule file of the pack, each as a
// subtest: go test -run 'TestRules/Acme.Device.Random.Name' runs one rule.
func TestRules(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	detecttest.Run(t, p.Rules)
}

// TestAdminsReload replaces the administrators while the pack's rules are
// in use: no rule is compiled again.
func TestAdminsReload(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var rule *detect.Rule
	for _, r := range p.Rules {
		if r.ID == "Acme.Admin.Delete.Outside.Office" {
			rule = r
		}
	}
	event := `{"action": "bucket.delete", "actor": {"email": "dave@acme.example"}, "sourceIP": "198.51.100.23"}`
	if ok, err := rule.Evaluate(event); ok || err != nil {
		t.Fatalf("Evaluate before dave is an admin = %v, %v; want false", ok, err)
	}
	if err := p.Admins.ReadCSV(strings.NewReader("email,team\ndave@acme.example,security\n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := rule.Evaluate(event); !ok || err != nil {
		t.Errorf("Evaluate after dave became an admin = %v, %v; want true", ok, err)
	}
}

func TestEntropy(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want float64
	}{
		{"", 0},
		{"aaaa", 0},
		{"abab", 1},
		{"abcd", 2},
	} {
		if got := Entropy(tt.s); got != tt.want {
			t.Errorf("Entropy(%q) = %v; want %v", tt.s, got, tt.want)
		}
	}
}
