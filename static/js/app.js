/* Bostad först – small progressive enhancements; no inline script (CSP). */
(function () {
  "use strict";
})();
