// Freely — suggestions under the header search box. The box works without this file (it
// submits GET /search); this adds a dropdown fed by GET /api/v1/autocomplete: requests are
// debounced and the stale ones aborted, ↑/↓ move through the suggestions, Enter opens the
// chosen one (or searches), Escape closes. Suggestion text is user data and is only ever
// set with textContent.
(function () {
  "use strict";

  var form = document.querySelector("header form.search");
  var input = form && form.querySelector("input[name=q]");
  var labels = document.getElementById("sr-ac-labels");
  if (!input || !labels || !window.fetch) return;

  var DEBOUNCE_MS = 120;
  var list = document.createElement("ul");
  list.id = "sr-ac-list";
  list.className = "sr-ac";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", labels.dataset.list || "");
  list.hidden = true;
  form.appendChild(list);
  form.classList.add("sr-has-ac");

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  var timer = 0;
  var inflight = null;
  var active = -1;
  var items = [];
  var lastQuery = "";

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    items.forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
    active = i;
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", items[i].id);
      items[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render(suggestions) {
    list.textContent = "";
    items = [];
    active = -1;
    suggestions.forEach(function (s, i) {
      if (typeof s.url !== "string" || s.url.charAt(0) !== "/" || s.url.charAt(1) === "/") return;
      var li = document.createElement("li");
      li.id = "sr-ac-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var a = document.createElement("a");
      a.href = s.url;
      a.tabIndex = -1;
      var kind = document.createElement("span");
      kind.className = "sr-ac-kind sr-ac-" + s.kind + (s.live ? " is-live" : "");
      kind.textContent = labels.dataset[s.kind] || s.kind;
      var text = document.createElement("span");
      text.className = "sr-ac-text";
      text.textContent = s.text;
      a.appendChild(kind);
      a.appendChild(text);
      if (s.kind === "channel" && typeof s.handle === "string" && s.handle) {
        var handle = document.createElement("span");
        handle.className = "sr-ac-handle";
        handle.textContent = "@" + s.handle;
        a.appendChild(handle);
      }
      li.appendChild(a);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); }); // keep focus
      li.addEventListener("mousemove", function () { highlight(items.indexOf(li)); });
      list.appendChild(li);
      items.push(li);
    });
    if (items.length === 0) {
      close();
      return;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function request(q) {
    if (inflight) inflight.abort();
    if (q === "") {
      lastQuery = "";
      render([]);
      return;
    }
    if (q === lastQuery && items.length > 0) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      return;
    }
    var ctrl = new AbortController();
    inflight = ctrl;
    fetch("/api/v1/autocomplete?q=" + encodeURIComponent(q), {
      signal: ctrl.signal, headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (res) {
      return res.ok ? res.json() : { suggestions: [] };
    }).then(function (body) {
      if (inflight !== ctrl) return;
      inflight = null;
      lastQuery = q;
      // Only show answers for what the box still holds.
      if (input.value.trim() !== q) return;
      render(Array.isArray(body.suggestions) ? body.suggestions : []);
    }).catch(function () { /* aborted or offline: the form still submits */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    var q = input.value.trim();
    timer = window.setTimeout(function () { request(q); }, DEBOUNCE_MS);
  });

  input.addEventListener("focus", function () {
    if (input.value.trim() !== "") request(input.value.trim());
  });

  input.addEventListener("keydown", function (ev) {
    var open = !list.hidden && items.length > 0;
    switch (ev.key) {
      case "ArrowDown":
        if (!open) { request(input.value.trim()); return; }
        ev.preventDefault();
        highlight(active + 1 >= items.length ? 0 : active + 1);
        break;
      case "ArrowUp":
        if (!open) return;
        ev.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
        break;
      case "Enter":
        if (open && active >= 0) {
          ev.preventDefault();
          window.location.assign(items[active].querySelector("a").getAttribute("href"));
        }
        break;
      case "Escape":
        if (open) {
          ev.preventDefault();
          close();
        }
        break;
    }
  });

  input.addEventListener("blur", function () { window.setTimeout(close, 100); });
  document.addEventListener("click", function (ev) { if (!form.contains(ev.target)) close(); });
})();
