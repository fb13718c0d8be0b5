// Filters the sidebar (and the matching sections) as the user types. No network, no libraries:
// the page must work from file://. "?q=word" pre-fills the box, "/" focuses it, Esc clears it.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var noMatch = document.getElementById("no-match");
  var entries = Array.prototype.slice.call(document.querySelectorAll("#sidebar .entry"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#sidebar .group"));

  function apply(query) {
    var terms = query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    var shown = 0;
    entries.forEach(function (entry) {
      var haystack = entry.getAttribute("data-search") || "";
      var hit = terms.every(function (t) { return haystack.indexOf(t) !== -1; });
      entry.hidden = !hit;
      var section = document.getElementById(entry.getAttribute("data-target"));
      if (section) { section.hidden = !hit; }
      if (hit) { shown += 1; }
    });
    groups.forEach(function (group) {
      var visible = group.querySelectorAll(".entry:not([hidden])").length;
      group.hidden = visible === 0;
      var count = group.querySelector(".count");
      if (count) { count.textContent = String(visible); }
    });
    noMatch.hidden = shown !== 0;
    document.body.setAttribute("data-shown", String(shown));
  }

  input.addEventListener("input", function () { apply(input.value); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== input) {
      event.preventDefault();
      input.focus();
    } else if (event.key === "Escape" && document.activeElement === input) {
      input.value = "";
      apply("");
    }
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) { input.value = initial; }
  apply(input.value);
})();
