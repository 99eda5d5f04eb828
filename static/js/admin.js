/* Bostad först – corrections to the Django admin's own scripts (WCAG 2.1 AA).
 *
 * The filter box of a two-list select (SelectFilter2.js) puts its name in an
 * aria-label on a plain <span>, where ARIA does not allow one (axe:
 * aria-prohibited-attr). As an image the icon may carry the name, and the
 * label of the filter field still reads it. The widget is built on the load
 * event, so the icons are corrected as they appear. */
(function () {
  "use strict";
  function fix(root) {
    root.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }
  new MutationObserver(function () { fix(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
  fix(document);
})();
