/* Quick-log form: when the participant is chosen, fetch the goals of their
   current action plan, so they can be ticked without reloading the form
   (which would lose what has been typed). Only an id goes in the URL. */
(function () {
  "use strict";
  var select = document.getElementById("id_participant");
  var box = document.getElementById("visit-goals");
  if (!select || !box || !window.fetch) {
    return;
  }
  var pending = null;
  select.addEventListener("change", function () {
    var url = box.getAttribute("data-goals-url") + "?participant=" + encodeURIComponent(select.value);
    var asked = select.value;
    pending = asked;
    box.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        // A redirect means the session ended (login page): keep the box as it is.
        if (!response.ok || response.redirected) {
          throw new Error("goals not loaded");
        }
        return response.text();
      })
      .then(function (html) {
        if (pending === asked) {
          box.innerHTML = html;
        }
      })
      .catch(function () {})
      .then(function () {
        box.removeAttribute("aria-busy");
      });
  });
})();
