package catalog

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// pageName is the file name of a rule's page, without extension: its ID
// with anything but letters, digits, '.', '-' and '_' replaced.
func pageName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "rule"
	}
	return b.String()
}

// WriteMarkdown writes one Markdown page per rule, laid out as a catalog
// page (metadata, ATT&CK coverage, rule body, detection logic, indicators,
// outputs), and an index, README.md, into dir, which it creates.
func (c *Catalog) WriteMarkdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "README.md"), c.markdownIndex); err != nil {
		return err
	}
	for _, e := range c.Rules {
		e := e
		if err := writeFile(filepath.Join(dir, pageName(e.ID)+".md"), func(w io.Writer) { e.markdown(w) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	write(f)
	if err := f.Close(); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "<br>")
}

func (c *Catalog) markdownIndex(w io.Writer) {
	fmt.Fprintf(w, "# Detection rules\n\n%d rules.\n\n", len(c.Rules))
	fmt.Fprintln(w, "| Rule | Severity | Log types | ATT&CK |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, e := range c.Rules {
		var attack []string
		for _, m := range e.Mitre {
			attack = append(attack, m.label())
		}
		fmt.Fprintf(w, "| [%s](%s.md) | %s | %s | %s |\n", mdCell(e.title()), pageName(e.ID), e.Severity,
			mdCell(strings.Join(e.LogTypes, ", ")), mdCell(strings.Join(attack, "; ")))
	}
}

// title is what a page calls a rule: its display name, else its ID.
func (e *Entry) title() string {
	if e.DisplayName != "" {
		return e.DisplayName
	}
	return e.ID
}

// label names an ATT&CK entry: "Impact: T1531 Account Access Removal".
func (m Mitre) label() string {
	var parts []string
	if m.Tactic != "" {
		parts = append(parts, firstNonEmpty(m.TacticName, m.Tactic))
	}
	if m.Technique != "" {
		parts = append(parts, m.techniqueLabel())
	}
	return strings.Join(parts, ": ")
}

// techniqueLabel names the technique: "T1531 Account Access Removal",
// flagged when ATT&CK no longer keeps it.
func (m Mitre) techniqueLabel() string {
	t := m.Technique
	if m.TechniqueName != "" {
		t += " " + m.TechniqueName
	}
	if m.Revoked {
		t += " (revoked)"
	} else if m.Deprecated {
		t += " (deprecated)"
	}
	return t
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (e *Entry) markdown(w io.Writer) {
	fmt.Fprintf(w, "# %s\n\n", e.title())
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "| %s | %s |\n", k, mdCell(v))
		}
	}
	row("Rule ID", "`"+e.ID+"`")
	row("Severity", e.Severity)
	row("Group by", strings.Join(e.GroupBy, ", "))
	row("Log types", strings.Join(e.LogTypes, ", "))
	row("Reference", e.Reference)
	row("Source", e.Source)
	row("Format", e.Format)
	if !e.Enabled {
		row("Enabled", "no")
	}
	fmt.Fprintln(w)
	if e.Description != "" {
		fmt.Fprintf(w, "%s\n\n", e.Description)
	}
	if e.Runbook != "" {
		fmt.Fprintf(w, "**Runbook:** %s\n\n", e.Runbook)
	}
	fmt.Fprint(w, "## MITRE ATT&CK coverage\n\n")
	if len(e.Mitre) == 0 {
		fmt.Fprint(w, "None listed.\n\n")
	} else {
		fmt.Fprintln(w, "| Tactic | Technique |")
		fmt.Fprintln(w, "|---|---|")
		for _, m := range e.Mitre {
			tactic := strings.TrimSpace(firstNonEmpty(m.TacticName, m.Tactic))
			if m.TacticName != "" {
				tactic += " (" + m.Tactic + ")"
			}
			fmt.Fprintf(w, "| %s | %s |\n", mdCell(tactic), mdCell(m.techniqueLabel()))
		}
		fmt.Fprintln(w)
	}
	if e.Body != "" {
		fence := "```"
		for strings.Contains(e.Body, fence) {
			fence += "`"
		}
		fmt.Fprintf(w, "## Rule body\n\n%syaml\n%s\n%s\n\n", fence, strings.TrimRight(e.Body, "\n"), fence)
	}
	fmt.Fprint(w, "## Detection logic\n\n### Condition\n\n```\n")
	for _, c := range e.Condition {
		fmt.Fprintln(w, c)
	}
	fmt.Fprint(w, "```\n\n### Indicators\n\n")
	if len(e.Indicators) == 0 {
		fmt.Fprint(w, "None: the condition tests no field against constants.\n\n")
	} else {
		fmt.Fprint(w, "The corpus column counts the other rules of the catalog that look for the same field, kind and value.\n\n")
		fmt.Fprintln(w, "| Field | Kind | Values | Required | Corpus |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, in := range e.Indicators {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %d |\n", mdCell(in.Field), mdCell(in.kindLabel()),
				mdCell(in.valuesLabel()), yesNo(in.Required), in.Corpus)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "## Output fields\n\n")
	if len(e.Outputs) == 0 {
		fmt.Fprint(w, "None.\n")
		return
	}
	fmt.Fprintln(w, "| Field | Source |")
	fmt.Fprintln(w, "|---|---|")
	for _, o := range e.Outputs {
		fmt.Fprintf(w, "| %s | `%s` |\n", mdCell(o.Field), mdCell(o.Source))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// kindLabel is an indicator's kind with its negation and case folding.
func (in Indicator) kindLabel() string {
	k := in.Kind
	if in.IgnoreCase {
		k += " (any case)"
	}
	if in.Negated {
		k = "not " + k
	}
	return k
}

func (in Indicator) valuesLabel() string {
	parts := make([]string, len(in.Values))
	for i, v := range in.Values {
		if s, ok := v.(string); ok {
			parts[i] = s
		} else {
			parts[i] = renderValue(v)
		}
	}
	return strings.Join(parts, ", ")
}
