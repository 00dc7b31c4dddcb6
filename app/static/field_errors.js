/* A form shown again with errors: move the focus to the first field in error (else to the
   summary), so a keyboard or screen reader user starts where the problem is. Without this
   script the summary at the top links to each field. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  var first = document.querySelector("[aria-invalid='true']");
  var target = first || summary;
  // A field inside a closed <details> cannot take the focus: open it first.
  for (var node = target.parentElement; node; node = node.parentElement) {
    if (node.tagName === "DETAILS") { node.open = true; }
  }
  target.focus();
  if (target.scrollIntoView) { target.scrollIntoView({block: "center"}); }
})();
