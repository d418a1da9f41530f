package rules

import (
	"testing"
)

func TestWizRevokeUserSessionsSeed(t *testing.T) {
	r := WizRevokeUserSessions
	for _, res := range r.RunTests() {
		t.Run(res.Name, func(t *testing.T) {
			if !res.Passed {
				t.Error(res)
			}
		})
	}
}
