// Freely — small progressive enhancements. Every form works without this file.
(function () {
  "use strict";

  // Close open <details> menus on an outside click or Escape.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      d.removeAttribute("open");
    });
  });

  // Avoid double submissions: disable the submit button once the form is on its way.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Show a chosen image before it is uploaded. Uses a blob: URL (allowed by the CSP) and
  // never inserts user text as HTML.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    input.addEventListener("change", function () {
      var target = document.getElementById(input.getAttribute("data-preview"));
      var file = input.files && input.files[0];
      if (!target || !file || !/^image\//.test(file.type)) return;
      if (target.tagName === "IMG") {
        if (target.dataset.objectUrl) URL.revokeObjectURL(target.dataset.objectUrl);
        target.dataset.objectUrl = URL.createObjectURL(file);
        target.src = target.dataset.objectUrl;
      }
    });
  });
})();
