// Record script errors on the page so a headless check (and a curious reader) can see them.
window.addEventListener("error", function (ev) {
  var el = document.documentElement;
  el.setAttribute("data-errors", (el.getAttribute("data-errors") || "") + String(ev.message) + "\n");
});
