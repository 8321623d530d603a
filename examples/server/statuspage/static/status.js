// Reloads the status page every 15 seconds while the tab is visible and
// nobody is typing or choosing in a form; the page works without it.
(function () {
  "use strict";
  var period = 15000;
  var note = document.querySelector(".refresh");
  // Only the page itself, never the answer to a form post.
  if (location.pathname !== "/status/" || !note) { return; }
  note.hidden = false;
  setInterval(function () {
    var a = document.activeElement;
    var busy = a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
    if (document.visibilityState === "visible" && !busy) {
      location.reload();
    }
  }, period);
})();
