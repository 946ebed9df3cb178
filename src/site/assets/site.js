// Conveniences only: every page works without this script.
(function () {
  "use strict";

  // Print everything: sections a reader collapsed open for the printout and close again.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) {
      d.open = false;
    });
    opened = [];
  });

  // "Expand all" and "Collapse all" where a page asks for them.
  document.querySelectorAll("[data-expand]").forEach(function (box) {
    var scope = document.getElementById(box.getAttribute("data-expand")) || document;
    [["Expand all", true], ["Collapse all", false]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = pair[0];
      button.addEventListener("click", function () {
        scope.querySelectorAll("details").forEach(function (d) {
          d.open = pair[1];
        });
      });
      box.appendChild(button);
    });
    box.hidden = false;
  });
})();
