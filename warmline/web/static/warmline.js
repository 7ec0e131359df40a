// Warmline's own script: CSRF header for htmx and fetch, the heartbeat, calm live updates.
// Everything works without it (plain forms); it only makes the page live.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // State-changing htmx requests carry the token in a header, like the JSON API.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // A poll whose answer is unchanged is not swapped in: no lost focus, no repeated
  // announcement by screen readers. Only the polled region is compared.
  var lastLive = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "live") { return; }
    var text = event.detail.serverResponse;
    if (lastLive === null) { lastLive = target.outerHTML; }
    if (text === lastLive) { event.detail.shouldSwap = false; }
    lastLive = text;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.tagName === "BODY") { lastLive = null; }
  });

  // During an outage a poll answers 503 (or nothing at all) and is not swapped in: the page
  // says so rather than look live while it is not. The next good answer takes the notice away.
  function showOutage(show) {
    var notice = document.getElementById("outage-notice");
    if (notice) { notice.hidden = !show; }
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 503) { showOutage(true); }
  });
  document.addEventListener("htmx:sendError", function () { showOutage(true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { showOutage(false); }
  });

  // The heartbeat tells the server this dashboard is open (no texts go to a closed one).
  function startHeartbeat() {
    var body = document.body;
    var url = body.getAttribute("data-heartbeat-url");
    if (!url || body.getAttribute("data-heartbeat-started")) { return; }
    body.setAttribute("data-heartbeat-started", "1");
    var seconds = parseInt(body.getAttribute("data-heartbeat-seconds") || "20", 10);
    function beat() {
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).catch(function () { /* the next beat tries again */ });
    }
    beat();
    window.setInterval(beat, seconds * 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startHeartbeat);
  } else {
    startHeartbeat();
  }
})();
