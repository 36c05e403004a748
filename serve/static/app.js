// sweep serve: live updates and run selection. The server renders every
// page; this script only (1) listens to /api/events and, when the database
// changed, fetches the same URL again and swaps in its <main id="live">,
// so sorting and filters (which live in the URL) survive; (2) keeps the
// ticked runs in sessionStorage, so they survive updates and navigation.
(function () {
  "use strict";
  var body = document.body;
  var stateEl = document.getElementById("live-state");
  var updatedEl = document.getElementById("updated");
  var storeKey = "sweep-serve-selection";

  function setState(text, bad) {
    if (!stateEl) { return; }
    stateEl.textContent = text;
    stateEl.classList.toggle("bad", !!bad);
  }

  function selected() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function saveSelection(ids) { sessionStorage.setItem(storeKey, JSON.stringify(ids)); }

  function restoreSelection() {
    var ids = selected();
    document.querySelectorAll("input.pick").forEach(function (cb) {
      cb.checked = ids.indexOf(cb.value) >= 0;
    });
    var a = document.getElementById("compare-link");
    if (a) {
      a.textContent = "Compare selected (" + ids.length + ")";
      a.href = "/compare?" + ids.map(function (id) { return "run=" + encodeURIComponent(id); }).join("&");
      a.classList.toggle("disabled", ids.length === 0);
    }
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.classList && t.classList.contains("pick")) {
      var ids = selected().filter(function (id) { return id !== t.value; });
      if (t.checked) { ids.push(t.value); }
      saveSelection(ids);
      restoreSelection();
    } else if (t.tagName === "SELECT" && t.form && t.form.classList.contains("filter")) {
      t.form.submit();
    }
  });
  // Boxes ticked before this script ran join the selection.
  (function () {
    var ids = selected();
    document.querySelectorAll("input.pick:checked").forEach(function (cb) {
      if (ids.indexOf(cb.value) < 0) { ids.push(cb.value); }
    });
    saveSelection(ids);
  }());
  var clear = document.getElementById("clear-selection");
  if (clear) {
    clear.addEventListener("click", function () { saveSelection([]); restoreSelection(); });
  }
  restoreSelection();

  var live = document.getElementById("live");
  var busy = false, again = false;
  var wanted = 0, retries = 0; // newest generation announced; tries to get it

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var got = 0; // the generation the answer is current at
    fetch(location.href, { cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        got = Number(r.headers.get("X-Sweep-Generation"));
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("live");
        if (next && live && next.innerHTML !== live.innerHTML) {
          var open = Array.from(live.querySelectorAll("details[open]")).map(function (d) { return d.id; });
          live.replaceChildren.apply(live, Array.from(next.childNodes).map(function (n) { return document.importNode(n, true); }));
          open.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
          restoreSelection();
        }
        body.dataset.gen = String(got);
        if (updatedEl) { updatedEl.textContent = "updated " + new Date().toLocaleTimeString(); }
        setState("live");
        // The server may answer from its cache while it recomputes: ask
        // again until the page is as new as the last announced change.
        if (got < wanted && retries < 20) {
          retries++;
          setTimeout(refresh, 150);
        } else {
          retries = 0;
        }
      })
      .catch(function (e) { setState("update failed: " + e.message, true); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (live && window.EventSource) {
    var es = new EventSource("/api/events");
    es.addEventListener("hello", function (e) {
      setState("live");
      wanted = Math.max(wanted, Number(e.data));
      if (Number(body.dataset.gen) < wanted) { refresh(); }
    });
    es.addEventListener("change", function (e) {
      wanted = Math.max(wanted, Number(e.data));
      retries = 0;
      refresh();
    });
    es.onerror = function () { setState("reconnecting…", true); };
  } else {
    setState("static");
  }
}());
