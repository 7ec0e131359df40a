// The admin pages' script: move focus to a refused form's error summary so it is read out first.
// Everything works without it.
(function () {
  "use strict";
  function focusErrors() {
    var summary = document.getElementById("error-summary") || document.getElementById("import-errors");
    if (summary) { summary.focus(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrors);
  } else {
    focusErrors();
  }
})();
