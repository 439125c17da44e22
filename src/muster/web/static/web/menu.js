// The header on a narrow screen: the navigation, the language and the account fold behind one
// "Menu" button (a real button: Enter and Space open and close it, Escape closes it and gives
// the focus back to it). Loaded right after the header, so the page never shows it unfolded
// first; without JavaScript the header stays unfolded.
(function () {
  "use strict";
  var header = document.querySelector("header.top");
  var button = header && header.querySelector(".menu-toggle");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) return;

  function show(open) {
    header.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  header.classList.add("folding");
  button.hidden = false;
  button.addEventListener("click", function () {
    show(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("open")) {
      show(false);
      button.focus();
    }
  });
})();
