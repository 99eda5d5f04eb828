/* Background jobs (report renders, cohort imports): follow a job's state and
 * progress without a manual reload. No inline script: the CSP forbids it.
 *
 * Markup: an element with data-job-status-url (a JSON view answering
 * {state, finished, label, percent, text}) and data-job-state (the state the
 * page was rendered in). Inside it, all optional:
 *   [data-job-label]     the state's name
 *   [data-job-progress]  a Bootstrap .progress (role=progressbar) whose
 *                        .progress-bar follows "percent" (null: unknown)
 *   [data-job-text]      the progress line ("1 200 av 2 000 rader kontrollerade")
 * When the job has finished, the page is loaded again to show its result.
 * Without JavaScript the page's own "Uppdatera" link does the same by hand.
 */
(function () {
  "use strict";

  function setProgress(bar, percent, text) {
    var inner = bar.querySelector(".progress-bar");
    if (percent === null || percent === undefined) {
      bar.removeAttribute("aria-valuenow");
      if (inner) {
        inner.classList.add("progress-bar-striped", "progress-bar-animated");
        inner.style.width = "100%"; // CSSOM, which the CSP allows
      }
    } else {
      bar.setAttribute("aria-valuenow", String(percent));
      if (inner) {
        inner.classList.remove("progress-bar-striped", "progress-bar-animated");
        inner.style.width = percent + "%";
      }
    }
    if (text) {
      bar.setAttribute("aria-valuetext", text);
    }
  }

  function follow(box) {
    var url = box.getAttribute("data-job-status-url");
    var current = box.getAttribute("data-job-state");
    var label = box.querySelector("[data-job-label]");
    var bar = box.querySelector("[data-job-progress]");
    var line = box.querySelector("[data-job-text]");
    var delay = 1000;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (data) {
          if (data.finished && data.state !== current) {
            window.location.reload();
            return;
          }
          if (label && data.label) {
            label.textContent = data.label;
          }
          if (bar && "percent" in data) {
            setProgress(bar, data.percent, data.text);
          }
          if (line && data.text && line.textContent !== data.text) {
            line.textContent = data.text;
          }
          current = data.state;
          delay = Math.min(delay * 1.3, 5000);
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          window.setTimeout(poll, 10000);
        });
    }

    window.setTimeout(poll, delay);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-job-status-url]"), follow);
})();
