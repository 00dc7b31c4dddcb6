/* Warn before leaving a section editor with unsaved changes. The page works without it. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
    // The conflict page starts dirty: the text in the box is not saved anywhere.
    var dirty = form.getAttribute("data-dirty") === "true";
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = "";  // older browsers need a value to show their prompt
      }
    });
  });
})();
