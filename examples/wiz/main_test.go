package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(bytes.NewReader(samples), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"line 1: MEDIUM [Wiz]: [RevokeUserSessions] action performed by user [user@company.com]",
		"line 4: MEDIUM [Wiz]: [RevokeUserSessions] action performed by serviceaccount [offboarding-automation]",
		"line 6: MEDIUM [Wiz]: [RevokeUserSessions] action performed by unknown [<Unknown Name>]",
		`"source_ip":"198.51.100.23"`,
		"6 events, 3 matches of Wiz.Revoke.User.Sessions",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
