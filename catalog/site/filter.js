// Filters the index's rows by text, log type, severity and tactic.
(function () {
  var q = document.getElementById("q");
  var logType = document.getElementById("logtype");
  var severity = document.getElementById("severity");
  var tactic = document.getElementById("tactic");
  var count = document.getElementById("count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.rule"));
  function has(list, v) { return v === "" || list.split("|").indexOf(v) >= 0; }
  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var ok = has(row.dataset.logtypes, logType.value) &&
        (severity.value === "" || row.dataset.severity === severity.value) &&
        has(row.dataset.tactics, tactic.value) &&
        words.every(function (w) { return row.dataset.text.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + " of " + rows.length + " rules";
  }
  [q, logType, severity, tactic].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  var params = new URLSearchParams(location.search);
  if (params.get("q")) q.value = params.get("q");
  apply();
})();
