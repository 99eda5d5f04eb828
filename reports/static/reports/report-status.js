/* Reports: follow a report job's state without a manual reload (no inline
   script: the CSP forbids it). The element carries data-status-url. */
(function () {
  "use strict";
  var box = document.querySelector("[data-report-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-report-status-url");
  var label = box.querySelector("[data-report-state]");
  var current = box.getAttribute("data-report-state-value");
  var delay = 1500;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        if (label && data.label) { label.textContent = data.label; }
        if (data.state !== current && data.finished) {
          window.location.reload();
          return;
        }
        current = data.state;
        delay = Math.min(delay * 1.3, 10000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, delay);
})();
