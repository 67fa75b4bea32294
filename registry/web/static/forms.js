/* After a refused submission, move keyboard and screen-reader focus to the list of errors. */
(function () {
  "use strict";
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
