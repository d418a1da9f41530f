package catalog

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed site/style.css site/filter.js
var site embed.FS

var (
	styleCSS = mustRead("site/style.css")
	filterJS = mustRead("site/filter.js")
)

func mustRead(name string) string {
	b, err := site.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// WriteHTML writes the catalog as a static site into dir, which it
// creates: index.html (every rule, filtered by log type, severity, tactic
// and text), a page per rule under rules/, matrix.html (ATT&CK coverage:
// tactics as columns, techniques with their number of rules) and
// indicators.html (the indicators most shared across the catalog). Every
// page holds its style and script: the site needs no server and no
// network.
func (c *Catalog) WriteHTML(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	pages := []struct {
		name string
		tmpl string
		data any
	}{
		{"index.html", "index", c.indexData()},
		{"matrix.html", "matrix", c.matrixData()},
		{"indicators.html", "indicators", c.sharedIndicators()},
	}
	for _, p := range pages {
		if err := c.render(filepath.Join(dir, p.name), p.tmpl, "", p.data); err != nil {
			return err
		}
	}
	for _, e := range c.Rules {
		if err := c.render(filepath.Join(dir, "rules", pageName(e.ID)+".html"), "rule", "../", e); err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) render(path, name, root string, data any) error {
	return writeFileErr(path, func(w io.Writer) error {
		return pages.ExecuteTemplate(w, name, page{Root: root, Catalog: c, Data: data})
	})
}

func writeFileErr(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("catalog: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

// page is what every template sees: the path back to the site's root, the
// catalog and the page's own data.
type page struct {
	Root    string
	Catalog *Catalog
	Data    any
}

type indexData struct {
	LogTypes, Severities []string
	Tactics              []Mitre
}

func (c *Catalog) indexData() indexData {
	var d indexData
	logTypes, tactics := map[string]bool{}, map[string]Mitre{}
	sevs := map[string]bool{}
	for _, e := range c.Rules {
		for _, t := range e.LogTypes {
			logTypes[t] = true
		}
		sevs[e.Severity] = true
		for _, m := range e.Mitre {
			if m.Tactic != "" {
				tactics[m.Tactic] = m
			}
		}
	}
	d.LogTypes = sortedKeys(logTypes)
	for _, s := range []string{"Info", "Low", "Medium", "High", "Critical"} {
		if sevs[s] {
			d.Severities = append(d.Severities, s)
		}
	}
	for _, k := range sortedKeys(tactics) {
		d.Tactics = append(d.Tactics, tactics[k])
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matrixColumn is a tactic of the coverage matrix with its techniques.
type matrixColumn struct {
	Tactic     Mitre
	Techniques []matrixCell
	Rules      []*Entry // rules that name the tactic without a technique
}

type matrixCell struct {
	Technique Mitre
	Rules     []*Entry
}

// matrixData lays out coverage: the bundle's tactics in its order (or the
// rules' tactics by ID without a bundle), each with the techniques the
// rules cover.
func (c *Catalog) matrixData() []matrixColumn {
	type cellKey struct{ tactic, technique string }
	cells := map[cellKey]*matrixCell{}
	var order []string
	cols := map[string]*matrixColumn{}
	column := func(m Mitre) *matrixColumn {
		col, ok := cols[m.Tactic]
		if !ok {
			col = &matrixColumn{Tactic: Mitre{Tactic: m.Tactic, TacticName: m.TacticName}}
			cols[m.Tactic] = col
			order = append(order, m.Tactic)
		}
		return col
	}
	for _, t := range c.Attack.Tactics() {
		column(Mitre{Tactic: t.ID, TacticName: t.Name})
	}
	for _, e := range c.Rules {
		for _, m := range e.Mitre {
			col := column(m)
			if m.Technique == "" {
				col.Rules = appendEntry(col.Rules, e)
				continue
			}
			k := cellKey{m.Tactic, m.Technique}
			cell, ok := cells[k]
			if !ok {
				cell = &matrixCell{Technique: m}
				cells[k] = cell
			}
			cell.Rules = appendEntry(cell.Rules, e)
		}
	}
	for k, cell := range cells {
		cols[k.tactic].Techniques = append(cols[k.tactic].Techniques, *cell)
	}
	if c.Attack == nil {
		sort.Strings(order)
	}
	out := make([]matrixColumn, 0, len(order))
	for _, t := range order {
		col := cols[t]
		sort.Slice(col.Techniques, func(i, j int) bool {
			a, b := col.Techniques[i], col.Techniques[j]
			if len(a.Rules) != len(b.Rules) {
				return len(a.Rules) > len(b.Rules)
			}
			return a.Technique.Technique < b.Technique.Technique
		})
		out = append(out, *col)
	}
	return out
}

func appendEntry(list []*Entry, e *Entry) []*Entry {
	if len(list) > 0 && list[len(list)-1] == e {
		return list
	}
	return append(list, e)
}

// shared is an indicator value and the rules that look for it.
type shared struct {
	Field, Kind, Value string
	Negated            bool
	Rules              []*Entry
}

// maxShared is how many indicators the indicators page lists.
const maxShared = 200

// sharedIndicators lists (field, kind, value) triples by the number of
// rules that test them, most first.
func (c *Catalog) sharedIndicators() []shared {
	type key struct {
		field, kind, value string
		negated            bool
	}
	byKey := map[key]*shared{}
	for _, e := range c.Rules {
		for _, in := range e.Indicators {
			values := in.Values
			if len(values) == 0 {
				values = []any{""}
			}
			for _, v := range values {
				text, ok := v.(string)
				if !ok {
					text = renderValue(v)
				}
				k := key{strings.ToLower(in.Field), in.Kind, text, in.Negated}
				s, ok := byKey[k]
				if !ok {
					s = &shared{Field: in.Field, Kind: in.Kind, Value: text, Negated: in.Negated}
					byKey[k] = s
				}
				s.Rules = appendEntry(s.Rules, e)
			}
		}
	}
	out := make([]shared, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Rules) != len(b.Rules) {
			return len(a.Rules) > len(b.Rules)
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Value < b.Value
	})
	if len(out) > maxShared {
		out = out[:maxShared]
	}
	return out
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"page":  func(e *Entry) string { return pageName(e.ID) + ".html" },
	"style": func() template.CSS { return template.CSS(styleCSS) },
	"script": func() template.JS {
		return template.JS(filterJS)
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"tactics": func(e *Entry) string {
		var ids []string
		for _, m := range e.Mitre {
			if m.Tactic != "" {
				ids = append(ids, m.Tactic)
			}
		}
		return strings.Join(ids, "|")
	},
	"text": func(e *Entry) string {
		parts := []string{e.ID, e.DisplayName, e.Description, strings.Join(e.LogTypes, " "), strings.Join(e.Tags, " ")}
		for _, m := range e.Mitre {
			parts = append(parts, m.Tactic, m.TacticName, m.Technique, m.TechniqueName)
		}
		return strings.ToLower(strings.Join(parts, " "))
	},
	"label": func(m Mitre) string { return m.label() },
	"kind":  func(in Indicator) string { return in.kindLabel() },
	"value": func(v any) string {
		s, ok := v.(string)
		if ok {
			return s
		}
		return renderValue(v)
	},
	"yesno": yesNo,
	"title": func(e *Entry) string { return e.title() },
	"plural": func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	},
}).Parse(pageTemplates))

const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>{{style}}</style></head>
{{end}}
{{define "nav"}}<header><a class="brand" href="{{.Root}}index.html">Detection rules</a>
<a href="{{.Root}}index.html">Rules</a><a href="{{.Root}}matrix.html">ATT&amp;CK coverage</a><a href="{{.Root}}indicators.html">Indicators</a></header>
{{end}}

{{define "index"}}{{template "head" "Detection rules"}}<body>{{template "nav" .}}<main>
<h1>Detection rules</h1>
<div class="filters" role="search">
<input id="q" type="search" placeholder="Search rules, techniques, log types" aria-label="Search">
<select id="logtype" aria-label="Log type"><option value="">All log types</option>{{range .Data.LogTypes}}<option>{{.}}</option>{{end}}</select>
<select id="severity" aria-label="Severity"><option value="">All severities</option>{{range .Data.Severities}}<option>{{.}}</option>{{end}}</select>
<select id="tactic" aria-label="Tactic"><option value="">All tactics</option>{{range .Data.Tactics}}<option value="{{.Tactic}}">{{if .TacticName}}{{.TacticName}} ({{.Tactic}}){{else}}{{.Tactic}}{{end}}</option>{{end}}</select>
</div>
<p class="count" id="count">{{len .Catalog.Rules}} rules</p>
<div class="wrap"><table id="rules"><thead><tr><th>Rule</th><th>Severity</th><th class="hide-small">Log types</th><th class="hide-small">ATT&amp;CK</th></tr></thead><tbody>
{{range .Catalog.Rules}}<tr class="rule" data-id="{{.ID}}" data-logtypes="{{join .LogTypes "|"}}" data-severity="{{.Severity}}" data-tactics="{{tactics .}}" data-text="{{text .}}">
<td><a href="rules/{{page .}}">{{title .}}</a><br><code class="muted">{{.ID}}</code></td>
<td><span class="sev sev-{{.Severity}}">{{.Severity}}</span></td>
<td class="hide-small">{{join .LogTypes ", "}}</td>
<td class="hide-small">{{range .Mitre}}{{label .}}<br>{{end}}</td></tr>
{{end}}</tbody></table></div>
</main><script>{{script}}</script></body></html>
{{end}}

{{define "rule"}}{{template "head" (title .Data)}}<body>{{template "nav" .}}<main>{{with .Data}}
<p class="crumbs"><a href="../index.html">Detection rules</a> › {{.Format}}</p>
<h1>{{title .}}</h1>
<dl class="facts">
<div><dt>Severity</dt><dd><span class="sev sev-{{.Severity}}">{{.Severity}}</span></dd></div>
<div><dt>Group by</dt><dd>{{if .GroupBy}}{{join .GroupBy ", "}}{{else}}<span class="muted">the alert title</span>{{end}}</dd></div>
<div><dt>Log types</dt><dd>{{join .LogTypes ", "}}</dd></div>
<div><dt>Rule ID</dt><dd><code>{{.ID}}</code></dd></div>
{{if .Reference}}<div><dt>Reference</dt><dd><a href="{{.Reference}}">{{.Reference}}</a></dd></div>{{end}}
{{if .Source}}<div><dt>Source</dt><dd>{{.Source}}</dd></div>{{end}}
<div><dt>Dedup</dt><dd>{{.DedupPeriodMinutes}} minutes, threshold {{.Threshold}}</dd></div>
{{if not .Enabled}}<div><dt>Enabled</dt><dd>no</dd></div>{{end}}
</dl>
{{if .Description}}<p id="description">{{.Description}}</p>{{end}}
{{if .Runbook}}<p><strong>Runbook:</strong> {{.Runbook}}</p>{{end}}
<h2>MITRE ATT&amp;CK coverage</h2>
{{if .Mitre}}<div class="wrap"><table id="mitre"><thead><tr><th>Tactic</th><th>Technique</th></tr></thead><tbody>
{{range .Mitre}}<tr><td>{{if .TacticName}}{{.TacticName}} <span class="muted">{{.Tactic}}</span>{{else}}{{.Tactic}}{{end}}</td>
<td>{{.Technique}} {{.TechniqueName}}{{if .Revoked}} <span class="flag">revoked</span>{{else if .Deprecated}} <span class="flag">deprecated</span>{{end}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p class="muted">None listed.</p>{{end}}
{{if .Body}}<h2>Rule body</h2><pre class="body" id="body"><code>{{.Body}}</code></pre>{{end}}
<h2>Detection logic</h2>
<h3>Condition</h3>
<pre id="condition"><code>{{range .Condition}}{{.}}
{{end}}</code></pre>
<h3>Indicators</h3>
{{if .Indicators}}<p class="muted">Each row is a field, a kind of test and the values the rule looks for. Corpus counts the other rules of the catalog that look for the same field, kind and value.</p>
<div class="wrap"><table id="indicators"><thead><tr><th>Field</th><th>Kind</th><th>Values</th><th>Required</th><th>Corpus</th></tr></thead><tbody>
{{range .Indicators}}<tr><td><code>{{.Field}}</code></td><td>{{kind .}}</td><td><ul class="values">{{range .Values}}<li>{{value .}}</li>{{end}}</ul></td><td>{{yesno .Required}}</td><td>{{.Corpus}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p class="muted">None: the condition tests no field against constants.</p>{{end}}
<h2>Output fields</h2>
{{if .Outputs}}<div class="wrap"><table id="outputs"><thead><tr><th>Field</th><th>Source</th></tr></thead><tbody>
{{range .Outputs}}<tr><td>{{.Field}}</td><td><code>{{.Source}}</code></td></tr>
{{end}}</tbody></table></div>{{else}}<p class="muted">None.</p>{{end}}
{{end}}</main></body></html>
{{end}}

{{define "matrix"}}{{template "head" "ATT&CK coverage"}}<body>{{template "nav" .}}<main>
<h1>ATT&amp;CK coverage</h1>
<p class="muted">Tactics as columns; each technique with the number of rules that cover it.</p>
<div class="matrix" id="matrix">{{range .Data}}<section><h3>{{if .Tactic.TacticName}}{{.Tactic.TacticName}}{{else}}{{or .Tactic.Tactic "No tactic"}}{{end}}</h3>
{{range .Techniques}}<div class="tech covered"><span class="n">{{len .Rules}}</span>{{.Technique.Technique}} {{.Technique.TechniqueName}}{{if .Technique.Revoked}} <span class="flag">revoked</span>{{else if .Technique.Deprecated}} <span class="flag">deprecated</span>{{end}}
<div>{{range .Rules}}<a href="rules/{{page .}}">{{title .}}</a><br>{{end}}</div></div>
{{end}}{{if .Rules}}<div class="tech"><span class="n">{{len .Rules}}</span>tactic only<div>{{range .Rules}}<a href="rules/{{page .}}">{{title .}}</a><br>{{end}}</div></div>{{end}}
</section>{{end}}</div>
</main></body></html>
{{end}}

{{define "indicators"}}{{template "head" "Indicators"}}<body>{{template "nav" .}}<main>
<h1>Indicators</h1>
<p class="muted">The fields, kinds and values the rules look for, most shared first.</p>
<div class="wrap"><table id="shared"><thead><tr><th>Field</th><th>Kind</th><th>Value</th><th>Rules</th></tr></thead><tbody>
{{range .Data}}<tr><td><code>{{.Field}}</code></td><td>{{if .Negated}}not {{end}}{{.Kind}}</td><td>{{.Value}}</td>
<td><details><summary>{{plural (len .Rules) "rule"}}</summary>{{range .Rules}}<a href="rules/{{page .}}">{{title .}}</a><br>{{end}}</details></td></tr>
{{end}}</tbody></table></div>
</main></body></html>
{{end}}
`
