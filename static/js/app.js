/* Bostad först – small progressive enhancements; no inline script (CSP).
 *
 * Session timeout (WCAG 2.2.1): SESSION_WARNING_BEFORE seconds before the idle
 * logout a warning offers "Continue working" (a POST to the keep-alive URL,
 * which counts as activity). Typing in a form is activity too: while the user
 * types, the session is kept alive (at most one request a minute). If the
 * session ends anyway (the tab was left), the text typed into forms on the page
 * is kept in sessionStorage (this tab only, gone when the tab closes, cleared at
 * logout) and restored, with a notice, when the user is back on the same form
 * after logging in again. Nothing is lost silently.
 */
(function () {
  "use strict";

  var body = document.body;
  var idleTimeout = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
  if (!idleTimeout) {
    return; // not logged in
  }
  var warningBefore = parseInt(body.getAttribute("data-warning-before") || "120", 10);
  var pingUrl = body.getAttribute("data-ping-url");
  var loginUrl = body.getAttribute("data-login-url");
  var warning = document.getElementById("session-warning");
  // What the server counts as the last activity: the page load, or the last
  // POST to the keep-alive URL. Typing alone does not move it (see below).
  var lastActivity = Date.now();
  var lastPing = Date.now();
  var warnTimer = null;
  var logoutTimer = null;
  var DRAFT_PREFIX = "bf-draft:";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(logoutTimer);
    var elapsed = (Date.now() - lastActivity) / 1000;
    var untilWarning = Math.max(0, idleTimeout - warningBefore - elapsed);
    var untilLogout = Math.max(0, idleTimeout - elapsed);
    warnTimer = window.setTimeout(showWarning, untilWarning * 1000);
    logoutTimer = window.setTimeout(checkAndLogout, untilLogout * 1000);
  }

  function showWarning() {
    if (!warning) {
      return;
    }
    warning.classList.remove("d-none");
    var button = warning.querySelector("[data-session-extend]");
    if (button) {
      button.focus();
    }
  }

  function hideWarning() {
    if (warning) {
      warning.classList.add("d-none");
    }
  }

  function extend() {
    lastPing = Date.now();
    return fetch(pingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
      redirect: "manual"
    }).then(function (response) {
      if (response.ok) {
        lastActivity = Date.now();
        hideWarning();
        schedule();
      } else {
        goToLogin();
      }
    });
  }

  function goToLogin() {
    saveAllDrafts();
    var next = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(next));
  }

  /* Another tab may have kept the session alive: ask the server before
   * leaving, and leave only once it has ended the session. (Going to the login
   * page while the session still lives would be answered by a redirect back,
   * which counts as activity: the tab would keep itself logged in forever.) */
  function checkAndLogout() {
    fetch(pingUrl, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("ended");
        }
        return response.json();
      })
      .then(function (data) {
        if (data.remaining <= 0) {
          goToLogin();
          return;
        }
        lastActivity = Date.now() - (idleTimeout - data.remaining) * 1000;
        if (data.remaining > warningBefore) {
          hideWarning();
        }
        schedule();
      })
      .catch(goToLogin);
  }

  /* --- Drafts ------------------------------------------------------------ */

  function draftKey(form, index) {
    return DRAFT_PREFIX + window.location.pathname + "#" + (form.id || index);
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken" || el.name === "submit_token") {
        return false;
      }
      var type = (el.type || "").toLowerCase();
      return ["password", "hidden", "file", "submit", "button"].indexOf(type) === -1;
    });
  }

  function postForms() {
    return Array.prototype.filter.call(document.forms, function (form) {
      return (form.method || "").toLowerCase() === "post" && !form.hasAttribute("data-no-draft") &&
        draftFields(form).some(function (el) { return el.tagName === "TEXTAREA" || el.type === "text"; });
    });
  }

  function saveDraft(form, index) {
    var values = {};
    draftFields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) {
          (values[el.name] = values[el.name] || []).push(el.value);
        }
      } else if (el.value !== el.defaultValue || el.tagName === "SELECT") {
        values[el.name] = el.value;
      }
    });
    try {
      window.sessionStorage.setItem(draftKey(form, index), JSON.stringify(values));
    } catch (e) { /* storage full or disabled: nothing else to do */ }
  }

  function saveAllDrafts() {
    postForms().forEach(saveDraft);
  }

  function restoreDraft(form, index) {
    var raw = window.sessionStorage.getItem(draftKey(form, index));
    if (!raw) {
      return false;
    }
    var values = JSON.parse(raw);
    var restored = false;
    draftFields(form).forEach(function (el) {
      if (!(el.name in values)) {
        return;
      }
      var value = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        return; // choices are quick to redo; never guess them
      }
      if (el.tagName !== "SELECT" && el.value === el.defaultValue && el.value !== value) {
        el.value = value;
        restored = true;
      }
    });
    return restored;
  }

  var anyRestored = false;
  postForms().forEach(function (form, index) {
    if (restoreDraft(form, index)) {
      anyRestored = true;
    }
    form.addEventListener("input", function () {
      saveDraft(form, index);
      // Typing is activity: keep the server session alive (at most one request
      // a minute, or at once while the warning shows). The timers follow the
      // server's clock, which only a request moves.
      var warningShown = warning && !warning.classList.contains("d-none");
      if (warningShown || Date.now() - lastPing > 60 * 1000) {
        extend();
      }
    });
    form.addEventListener("submit", function () {
      // A submit after the idle limit will be answered by the login page:
      // keep the draft then, so it is restored after logging in again.
      if (Date.now() - lastActivity < idleTimeout * 1000) {
        window.sessionStorage.removeItem(draftKey(form, index));
      }
    });
  });

  var notice = document.getElementById("draft-restored");
  if (anyRestored && notice) {
    notice.classList.remove("d-none");
    var discard = notice.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        postForms().forEach(function (form, index) {
          window.sessionStorage.removeItem(draftKey(form, index));
        });
        window.location.reload();
      });
    }
  }

  /* An explicit logout forgets every draft of this tab. */
  var logoutForm = document.querySelector("form[action$='/logout/']");
  if (logoutForm) {
    logoutForm.setAttribute("data-no-draft", "");
    logoutForm.addEventListener("submit", function () {
      Object.keys(window.sessionStorage).forEach(function (key) {
        if (key.indexOf(DRAFT_PREFIX) === 0) {
          window.sessionStorage.removeItem(key);
        }
      });
    });
  }

  var extendButton = warning && warning.querySelector("[data-session-extend]");
  if (extendButton) {
    extendButton.addEventListener("click", extend);
  }
  schedule();
})();

/* One-time submit tokens (bostadforst/mixins.py). Pages are not cached, so
 * Back after a submit fetches the form page again, with a fresh token, while
 * the browser restores what was typed: submitting that again would save it
 * twice. On such a history navigation the form gets back the token it was
 * submitted with (kept in this tab only), and the server answers the replay
 * with what the first submit saved. A form reached any other way keeps its
 * fresh token: a new visit logged on purpose is a new record. */
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[name=submit_token]");
  if (!inputs.length || !window.sessionStorage) {
    return;
  }
  var nav = window.performance && window.performance.getEntriesByType ?
    window.performance.getEntriesByType("navigation")[0] : null;
  var back = nav && nav.type === "back_forward";
  Array.prototype.forEach.call(inputs, function (input, index) {
    var key = "bf-token:" + window.location.pathname + window.location.search + "#" + index;
    var sent = window.sessionStorage.getItem(key);
    if (back && sent) {
      input.value = sent;
    }
    if (input.form) {
      input.form.addEventListener("submit", function () {
        try {
          window.sessionStorage.setItem(key, input.value);
        } catch (e) { /* storage full or disabled: a replay is then not recognised */ }
      });
    }
  });
})();

/* The error summary of a form that failed validation (bostadforst/
 * templatetags/error_summary.py): focus moves to it when the page loads, so
 * the failed submit is announced and the keyboard starts from the list of
 * what to correct. A link in it moves focus to its field (a fragment link
 * alone would only scroll) with the field's label in view. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return;
    }
    event.preventDefault();
    var details = field.closest("details");
    if (details) {
      details.open = true;
    }
    var anchor = field.closest("fieldset") || field.closest(".mb-3") || field;
    anchor.scrollIntoView();
    field.focus({ preventScroll: true });
  });
})();

/* A table too wide for the screen scrolls sideways inside its
 * .table-responsive. Someone without a mouse must be able to scroll it too
 * (WCAG 2.1.1; axe: scrollable-region-focusable): while it overflows it is a
 * focusable region named by the table's caption. */
(function () {
  "use strict";
  var scrollers = document.querySelectorAll(".table-responsive");
  if (!scrollers.length) {
    return;
  }
  function update(scroller) {
    var overflows = scroller.scrollWidth > scroller.clientWidth;
    if (overflows && !scroller.hasAttribute("tabindex")) {
      var caption = scroller.querySelector("caption");
      scroller.setAttribute("tabindex", "0");
      if (caption) {
        scroller.setAttribute("role", "region");
        scroller.setAttribute("aria-label", caption.textContent.trim());
      }
    } else if (!overflows && scroller.getAttribute("tabindex") === "0") {
      scroller.removeAttribute("tabindex");
      scroller.removeAttribute("role");
      scroller.removeAttribute("aria-label");
    }
  }
  function updateAll() {
    Array.prototype.forEach.call(scrollers, update);
  }
  updateAll();
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(updateAll);
    Array.prototype.forEach.call(scrollers, function (scroller) { observer.observe(scroller); });
  } else {
    window.addEventListener("resize", updateAll);
  }
})();
