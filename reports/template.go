package reports

import "html/template"

// pageTemplate is the whole report. The Content-Security-Policy forbids
// every external fetch, so a reference to a URL would fail loudly in a
// browser instead of leaking a request.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>sweep report{{with .Generated}} — {{.}}{{end}}</title>
<style>
:root { --fg: #1d232a; --muted: #5b6570; --line: #d9dee3; --soft: #f4f6f8; --accent: #1f77b4; --best: #fff4cc; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--fg); background: #fff; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; line-height: 1.45; }
main { max-width: 1500px; margin: 0 auto; padding: 1.2rem 1.6rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 0.5rem; padding-bottom: 0.25rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 0.4rem; }
section.sweep > h2 { font-size: 1.5rem; border-bottom: 3px solid var(--accent); margin-top: 3rem; }
.meta, .note, figcaption, .muted { color: var(--muted); }
.meta { margin: 0 0 1rem; }
code, pre { font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
a { color: var(--accent); }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 1rem; margin: 1rem 0; }
nav.toc h2 { margin: 0 0 0.3rem; border: 0; font-size: 1.05rem; }
nav.toc ol { margin: 0; padding-left: 1.4rem; }
nav.toc li { margin: 0.15rem 0; }
nav.toc .sub { font-size: 0.88rem; }
.findings-box { border-left: 4px solid var(--accent); background: var(--soft); padding: 0.5rem 1rem 0.7rem; border-radius: 0 6px 6px 0; }
.findings-box h2 { border: 0; margin: 0.4rem 0; }
.findings-box h3 { margin: 0.8rem 0 0.2rem; font-size: 1rem; }
ul.findings { margin: 0.3rem 0; padding-left: 1.3rem; max-width: 78rem; }
ul.findings li { margin: 0.25rem 0; }
li.f-warning { color: #a4361b; }
li.f-status, li.f-pruned { color: var(--muted); }
.desc { font-size: 1.05rem; margin: 0.3rem 0 0.6rem; max-width: 70rem; white-space: pre-wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; margin: 0.5rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.chip { display: inline-block; padding: 0 0.5rem; margin-right: 0.3rem; border-radius: 999px; background: var(--soft); border: 1px solid var(--line); font-size: 0.9rem; }
.chip.st-done { background: #e6f4ea; border-color: #b7dfc2; }
.chip.st-failed { background: #fde8e4; border-color: #f3b8aa; }
.chip.st-running { background: #e8f0fb; border-color: #b9cfee; }
.chip.st-pruned { background: #f1ecf7; border-color: #cdbde3; }
.chip.zero { opacity: 0.55; }
details { margin: 0.6rem 0; }
details summary { cursor: pointer; color: var(--accent); }
details pre { background: var(--soft); border: 1px solid var(--line); padding: 0.6rem 0.8rem; overflow-x: auto; max-height: 30rem; }
.table-wrap { overflow-x: auto; }
.table-wrap.long { max-height: 34rem; overflow-y: auto; border-bottom: 1px solid var(--line); }
.table-wrap.long thead th { position: sticky; top: 0; z-index: 1; }
table { border-collapse: collapse; font-size: 0.92rem; margin: 0.4rem 0; }
th, td { padding: 0.28rem 0.7rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.ranked { color: var(--accent); }
th[data-sortable] { cursor: pointer; }
th[aria-sort=descending]::after { content: " ▼"; font-size: 0.75em; }
th[aria-sort=ascending]::after { content: " ▲"; font-size: 0.75em; }
tr.best td { background: var(--best); font-weight: 600; }
tr.pending td { color: var(--muted); }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, max(540px, 46%)), 1fr)); gap: 1.4rem 1.6rem; align-items: start; }
figure { margin: 0; min-width: 0; }
figure .fig { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
figcaption { font-size: 0.88rem; margin-top: 0.3rem; }
figcaption b { color: var(--fg); }
.figs figure figcaption { max-width: 44rem; }
table.failed td.err { white-space: pre-wrap; font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.85rem; color: #a4361b; max-width: 60rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); padding-top: 0.6rem; }
@media print { .table-wrap.long { max-height: none; overflow: visible; } .figs { display: block; } figure { break-inside: avoid; margin-bottom: 1rem; } details { display: none; } }
</style>
</head>
<body>
<main>
<header>
<h1>sweep report</h1>
<p class="meta">{{with .Generated}}Generated {{.}} · {{end}}configurations ranked by final <b>{{.Metric}}</b> (<code>{{.MetricID}}</code>){{with .DBPath}} · results from <code>{{.}}</code>{{end}}{{with .Version}} · sweep {{.}}{{end}}</p>
</header>

<nav class="toc" aria-label="Contents">
<h2>Contents</h2>
<ol>
<li><a href="#findings">Findings</a></li>
{{- range .Sweeps}}
<li><a href="#{{.Anchor}}">{{.Name}}</a> <span class="muted">— {{.Done}} of {{.Total}} runs done</span>
<div class="sub">{{range $i, $g := .Groups}}{{if $i}} · {{end}}<a href="#{{$g.Anchor}}">{{$g.Title}}</a>{{end}} · <a href="#{{.Anchor}}-failed">failed runs</a></div></li>
{{- end}}
</ol>
</nav>

<section class="findings-box" id="findings">
<h2>Findings</h2>
<ul class="findings">
{{- range .Findings}}
<li class="f-{{.Kind}}">{{.Text}}</li>
{{- end}}
</ul>
{{- range .Headlines}}
<h3><a href="#{{.Anchor}}">{{.Name}}</a></h3>
<ul class="findings">
{{- range .Lines}}
<li>{{.}}</li>
{{- else}}
<li class="f-status">Nothing to report yet.</li>
{{- end}}
</ul>
{{- end}}
<p class="muted">A difference is called a win only when it exceeds twice the pooled standard deviation over seeds and the min–max ranges over seeds do not overlap; with one run on a side no spread can be estimated and no win is claimed.</p>
</section>

{{range .Sweeps}}
<section class="sweep" id="{{.Anchor}}">
<h2>{{.Name}}</h2>
{{with .Description}}<p class="desc">{{.}}</p>{{end}}
<dl class="facts">
<dt>ran</dt><dd>{{.When}}</dd>
<dt>runs</dt><dd>{{.Total}} in total: {{range .Counts}}<span class="chip {{.Class}}{{if not .N}} zero{{end}}">{{.N}} {{.Label}}</span>{{end}}</dd>
<dt>training time</dt><dd>{{.TrainTime}} summed over runs</dd>
{{range .Facts}}<dt>{{.Label}}</dt><dd>{{.Text}}</dd>
{{end}}{{with .File}}<dt>sweep file</dt><dd><code>{{.}}</code></dd>{{end}}
{{with .Hash}}<dt>file hash</dt><dd><code>{{.}}</code></dd>{{end}}
{{with .Updated}}<dt>recorded</dt><dd>{{.}}</dd>{{end}}
</dl>
{{with .Source}}<details><summary>Sweep configuration</summary><pre>{{.}}</pre></details>{{end}}

<h3>Findings</h3>
<ul class="findings">
{{- range .Findings}}
<li class="f-{{.Kind}}">{{.Text}}</li>
{{- end}}
</ul>

<h3 id="{{.Anchor}}-table">Configurations</h3>
{{with .Table}}
{{- if .Rows}}
<p class="muted">Final test metrics, mean ± std over seeds; best row highlighted.{{if gt (len .Rows) 1}} Click a column header to sort.{{end}}{{if gt (len .Rows) 15}} {{len .Rows}} configurations: the table scrolls.{{end}}</p>
<div class="table-wrap{{if gt (len .Rows) 15}} long{{end}}"><table class="sortable">
<thead><tr>{{range .Headers}}<th title="{{.Title}}" class="{{if .Numeric}}num{{end}}{{if .Ranked}} ranked{{end}}" data-numeric="{{if .Numeric}}1{{else}}0{{end}}"{{if .Ranked}} aria-sort="{{if $.MetricLower}}ascending{{else}}descending{{end}}"{{end}}>{{.Label}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr{{if .Best}} class="best"{{end}}>{{range .Cells}}<td data-v="{{.Sort}}">{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
{{- end}}
{{with .Note}}<p class="note">{{.}}</p>{{end}}
{{end}}

{{range .Groups}}
<h3 id="{{.Anchor}}">{{.Title}}</h3>
{{with .Intro}}<p class="muted">{{.}}</p>{{end}}
{{with .Note}}<p class="note">{{.}}</p>{{end}}
{{if .Figures}}<div class="figs">
{{- range .Figures}}
<figure id="{{.Anchor}}">{{.Body}}<figcaption><b>{{.Title}}.</b> {{.Caption}}</figcaption></figure>
{{- end}}
</div>{{end}}
{{end}}

<h3 id="{{.Anchor}}-failed">Failed and interrupted runs</h3>
{{if .Failed}}
<div class="table-wrap"><table class="failed">
<thead><tr><th>run</th><th>status</th><th>settings</th><th class="num">epochs done</th><th>host</th><th>error</th></tr></thead>
<tbody>
{{- range .Failed}}
<tr><td><code>{{.RunID}}</code></td><td>{{.Status}}</td><td>{{.Label}}</td><td class="num">{{.Epochs}}</td><td>{{.Host}}</td><td class="err">{{.Error}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{else}}<p class="note">None.</p>{{end}}
</section>
{{end}}

<footer>Generated by sweep{{with .Version}} {{.}}{{end}}. Self-contained: no external resources. Only runs with status “done” (trained, or reused from an identical run) enter the aggregates of final metrics; pruned runs are drawn and listed but not averaged with them; failed, interrupted, running and pending runs are counted but not averaged.</footer>
</main>
<script>
(function () {
  function val(row, i) { var c = row.cells[i]; return c ? c.getAttribute("data-v") || "" : ""; }
  function cmp(a, b) {
    var x = Number(a), y = Number(b);
    if (isFinite(x) && isFinite(y)) { return x - y; }
    return a.localeCompare(b);
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var ths = table.tHead.rows[0].cells;
      for (var i = 0; i < ths.length; i++) {
        (function (th, i) {
          th.setAttribute("data-sortable", "");
          th.tabIndex = 0;
          function go() {
            var cur = th.getAttribute("aria-sort");
            var desc = cur ? cur !== "descending" : th.getAttribute("data-numeric") === "1";
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var va = val(a, i), vb = val(b, i);
              if (va === "" || vb === "") { return (va === "") - (vb === ""); }
              var c = cmp(va, vb);
              return desc ? -c : c;
            });
            for (var k = 0; k < rows.length; k++) { body.appendChild(rows[k]); }
            for (var j = 0; j < ths.length; j++) { ths[j].removeAttribute("aria-sort"); }
            th.setAttribute("aria-sort", desc ? "descending" : "ascending");
          }
          th.addEventListener("click", go);
          th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
        })(ths[i], i);
      }
    })(tables[t]);
  }
})();
</script>
</body>
</html>
`))
