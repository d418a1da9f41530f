package wizgen_test

import (
	"encoding/json"
	"fmt"

	"github.com/detectkit/detect/internal/wizgen"
)

// A benchmark stream: 1% of the entries are sessions revoked successfully,
// the rest never match a Wiz audit rule.
func ExampleEvents() {
	events := wizgen.Events(2_000, 1, 0.01, "RevokeUserSessions")
	revoked := 0
	for _, e := range events {
		var entry struct{ Action, Status string }
		if err := json.Unmarshal(e, &entry); err != nil {
			panic(err)
		}
		if entry.Action == "RevokeUserSessions" && entry.Status == "SUCCESS" {
			revoked++
		}
	}
	fmt.Println(len(events), "entries,", revoked, "sessions revoked")
	// Output: 2000 entries, 20 sessions revoked
}
