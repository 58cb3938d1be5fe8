// Freely — the streamer dashboard: reveal and copy the stream key and server address, and
// follow the broadcast's status (live or not, viewers, elapsed time) without reloading.
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return;

  function flash(button, text) {
    var old = button.textContent;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = old; }, 1500);
  }

  // copyFrom copies an input's value: the Clipboard API where the page is a secure context,
  // otherwise a selection copy (which a password field refuses, so it is shown briefly).
  function copyFrom(input, button) {
    var done = function () { flash(button, root.dataset.copied || "✓"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
      return;
    }
    var type = input.type;
    input.type = "text";
    input.select();
    try { if (document.execCommand("copy")) done(); } catch (e) { /* nothing to copy with */ }
    input.type = type;
    window.getSelection && window.getSelection().removeAllRanges();
  }

  root.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    button.addEventListener("click", function () { copyFrom(input, button); });
  });

  root.querySelectorAll("[data-reveal]").forEach(function (button) {
    var input = document.getElementById(button.dataset.reveal);
    if (!input) return;
    button.addEventListener("click", function () {
      var hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      button.textContent = hidden ? root.dataset.hide : root.dataset.show;
      button.setAttribute("aria-pressed", hidden ? "true" : "false");
    });
  });

  // Live status.
  var startedAt = root.dataset.startedAt ? Date.parse(root.dataset.startedAt) : NaN;
  var live = root.dataset.live === "true";

  function formatCount(n) {
    return String(Math.max(0, n | 0)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function formatElapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var mm = h > 0 && m < 10 ? "0" + m : String(m);
    return (h > 0 ? h + ":" : "") + mm + ":" + (sec < 10 ? "0" : "") + sec;
  }
  function set(sel, text) {
    root.querySelectorAll(sel).forEach(function (el) { el.textContent = text; });
  }
  function tick() {
    set("[data-elapsed]", live && !isNaN(startedAt) ? formatElapsed(Date.now() - startedAt) : "–");
  }
  function apply(st) {
    if (!st || typeof st.live !== "boolean") return;
    live = st.live;
    startedAt = st.started_at ? Date.parse(st.started_at) : NaN;
    var card = root.querySelector(".dash-status");
    card.classList.toggle("is-live", live);
    root.querySelector(".dash-state-live").hidden = !live;
    root.querySelector(".dash-state-offline").hidden = live;
    root.querySelector(".dash-offline-sub").hidden = live;
    var end = root.querySelector(".dash-end");
    if (end) end.hidden = !live;
    set("[data-viewers]", formatCount(live ? st.viewers : 0));
    tick();
  }

  if (window.EventSource && root.dataset.events) {
    var es = new EventSource(root.dataset.events);
    es.addEventListener("status", function (ev) {
      try { apply(JSON.parse(ev.data)); } catch (e) { /* a malformed frame changes nothing */ }
    });
  }
  window.setInterval(tick, 1000);
  tick();
})();
