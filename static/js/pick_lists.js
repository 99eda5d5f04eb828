/* Pick lists that are long on a phone (the quick log's participant, the
   letting form's participant). Enhancements only: every form works without
   this file.

   1. select[data-filter]: a search box above the list; typing narrows the
      options to those whose text contains what was typed (names as the page
      shows them, so a protected person is found only by their alias). The
      chosen option always stays, and a polite live region says how many
      match.
   2. select[data-default-from="<id>"]: when the list named by <id> changes,
      this list takes the value in the chosen option's data-worker (or its
      empty choice), until the user picks something in it themselves. */
(function () {
  "use strict";

  function norm(text) {
    return (text || "").toLocaleLowerCase("sv").normalize("NFC").trim();
  }

  function setUpFilter(select) {
    var original = Array.prototype.map.call(select.children, function (node) {
      return node.cloneNode(true);
    });
    var wrapper = document.createElement("div");
    wrapper.className = "mb-2";
    var label = document.createElement("label");
    label.className = "form-label small mb-1";
    label.htmlFor = select.id + "-filter";
    label.textContent = select.getAttribute("data-filter-label") || "Sök i listan";
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-filter";
    input.className = "form-control form-control-sm";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(status);
    select.parentNode.insertBefore(wrapper, select);

    input.addEventListener("input", function () {
      var query = norm(input.value);
      var chosen = select.value;
      var count = 0;
      var keep = function (option) {
        if (option.value === "" || option.value === chosen) {
          return true;
        }
        var match = !query || norm(option.textContent).indexOf(query) !== -1;
        if (match) {
          count += 1;
        }
        return match;
      };
      while (select.firstChild) {
        select.removeChild(select.firstChild);
      }
      original.forEach(function (node) {
        if (node.tagName === "OPTGROUP") {
          var group = node.cloneNode(false);
          Array.prototype.forEach.call(node.children, function (option) {
            if (keep(option)) {
              group.appendChild(option.cloneNode(true));
            }
          });
          if (group.children.length) {
            select.appendChild(group);
          }
        } else if (keep(node)) {
          select.appendChild(node.cloneNode(true));
        }
      });
      select.value = chosen;
      var template = select.getAttribute("data-filter-count") || "%s träffar";
      status.textContent = query ? template.replace("%s", String(count)) : "";
    });
  }

  function setUpDefault(target) {
    var source = document.getElementById(target.getAttribute("data-default-from"));
    if (!source) {
      return;
    }
    var touched = false;
    target.addEventListener("change", function () {
      touched = true;
    });
    source.addEventListener("change", function () {
      if (touched) {
        return;
      }
      var option = source.options[source.selectedIndex];
      target.value = (option && option.getAttribute("data-worker")) || "";
    });
  }

  document.querySelectorAll("select[data-filter]").forEach(setUpFilter);
  document.querySelectorAll("select[data-default-from]").forEach(setUpDefault);
})();
