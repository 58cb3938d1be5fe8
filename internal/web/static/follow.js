// Follows and alerts on every page: the follow button (JSON PUT/DELETE instead of the form
// post), the bell's unread count and toasts pushed over the alert WebSocket, and mark-read on
// the alert list. User text (channel names, stream titles) is only ever set with textContent.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function api(method, path) {
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: "{}"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { throw new Error((body && body.error) || res.statusText); }
        return body;
      });
    });
  }

  function groupDigits(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // ---- follow button ----
  document.querySelectorAll("[data-follow-box]").forEach(function (box) {
    var form = box.querySelector("[data-follow-form]");
    var count = box.querySelector("[data-follow-count]");
    if (!form) { return; }
    var button = form.querySelector("button");
    var field = form.querySelector('input[name="follow"]');
    var handle = box.getAttribute("data-handle");

    function show(following, followers) {
      field.value = following ? "0" : "1";
      button.setAttribute("aria-pressed", following ? "true" : "false");
      button.classList.toggle("is-following", following);
      button.classList.toggle("btn-ghost", following);
      button.classList.toggle("btn-primary", !following);
      button.textContent = button.getAttribute(following ? "data-label-following" : "data-label-follow");
      if (count && typeof followers === "number") {
        count.setAttribute("data-count", String(followers));
        count.textContent = button.getAttribute("data-label-followers").replace("%s", groupDigits(followers));
      }
    }
    // "Following" turns into "Unfollow" under the pointer, so the action is clear.
    button.addEventListener("mouseenter", function () {
      if (button.classList.contains("is-following")) { button.textContent = button.getAttribute("data-label-unfollow"); }
    });
    button.addEventListener("mouseleave", function () {
      if (button.classList.contains("is-following")) { button.textContent = button.getAttribute("data-label-following"); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (button.disabled) { return; }
      button.disabled = true;
      var follow = field.value === "1";
      api(follow ? "PUT" : "DELETE", "/api/v1/follows/" + encodeURIComponent(handle))
        .then(function (st) { show(!!st.following, st.followers); })
        .catch(function (err) { toast(null, err.message); })
        .then(function () { button.disabled = false; });
    });
  });

  // ---- bell, toasts and the alert socket ----
  var bell = document.querySelector("[data-alert-bell]");
  var badge = bell ? bell.querySelector(".bell-count") : null;
  var stack = document.querySelector("[data-toast-stack]");
  // The stack is rendered in the top bar, whose backdrop filter would pin "fixed" children to
  // the bar itself: move it to the body so toasts sit at the corner of the window.
  if (stack && stack.parentNode !== document.body) { document.body.appendChild(stack); }

  function setUnread(n) {
    if (!badge) { return; }
    n = Math.max(0, n | 0);
    badge.setAttribute("data-unread", String(n));
    var label = n >= 100 ? "99+" : String(n);
    badge.textContent = label;
    badge.hidden = n === 0;
    badge.title = bell.getAttribute("data-label-unread").replace("%s", label);
    // The alert list's own counter and "mark all read" follow the bell.
    var counter = document.querySelector("[data-alerts-unread]");
    if (counter) {
      counter.textContent = counter.getAttribute("data-label").replace("%s", label);
      counter.hidden = n === 0;
    }
    var all = document.querySelector("[data-alerts-read-all]");
    if (all) { all.hidden = n === 0; }
  }
  function unread() { return badge ? parseInt(badge.getAttribute("data-unread"), 10) || 0 : 0; }

  function toast(alert, text) {
    if (!stack) { return; }
    var el = document.createElement(alert ? "a" : "div");
    el.className = "toast";
    if (alert) {
      el.href = "/c/" + encodeURIComponent(alert.channel_handle);
      var line = document.createElement("span");
      line.className = "toast-line";
      var name = document.createElement("strong");
      name.textContent = alert.channel_display_name || alert.channel_handle;
      line.appendChild(name);
      line.appendChild(document.createTextNode(bell.getAttribute("data-msg-" + alert.kind) || ""));
      el.appendChild(line);
      if (alert.title) {
        var title = document.createElement("span");
        title.className = "toast-title";
        title.textContent = alert.title;
        el.appendChild(title);
      }
    } else {
      el.textContent = text;
    }
    stack.appendChild(el);
    while (stack.children.length > 3) { stack.removeChild(stack.firstChild); }
    setTimeout(function () { el.classList.add("is-leaving"); }, 7000);
    setTimeout(function () { if (el.parentNode) { el.parentNode.removeChild(el); } }, 7600);
  }

  // A followed channel that just went live moves to the top of the side panel with its dot.
  function markPanelLive(handle) {
    var panel = document.querySelector("[data-followed-panel]");
    if (!panel) { return; }
    var link = panel.querySelector('a[href="/c/' + CSS.escape(handle) + '"]');
    if (!link) { return; }
    if (!link.querySelector(".live-dot")) {
      var dot = document.createElement("span");
      dot.className = "live-dot";
      link.appendChild(dot);
    }
    panel.insertBefore(link.parentNode, panel.firstChild);
  }

  if (bell && "WebSocket" in window) {
    var delay = 1000;
    var connect = function () {
      var proto = location.protocol === "https:" ? "wss:" : "ws:";
      var ws = new WebSocket(proto + "//" + location.host + "/api/v1/alerts/ws");
      // data-socket tells tests (and styles) whether pushes can arrive right now.
      ws.addEventListener("open", function () { delay = 1000; bell.setAttribute("data-socket", "open"); });
      ws.addEventListener("message", function (ev) {
        var push;
        try { push = JSON.parse(ev.data); } catch (e) { return; }
        if (push.type === "unread" && typeof push.unread === "number") {
          setUnread(push.unread);
        } else if (push.type === "alert" && push.alert) {
          setUnread(unread() + 1);
          toast(push.alert);
          if (push.alert.kind === "went_live") { markPanelLive(push.alert.channel_handle); }
          document.dispatchEvent(new CustomEvent("freely:alert", { detail: push.alert }));
        }
      });
      ws.addEventListener("close", function (ev) {
        bell.setAttribute("data-socket", "closed");
        if (ev.code === 1008) { return; } // policy: logged out or refused; a reload will tell
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    };
    connect();
  }

  // ---- alert list: mark one / all read without leaving the page ----
  function markItemRead(item) {
    item.classList.remove("is-unread");
    var f = item.querySelector("[data-alert-read]");
    if (f) { f.parentNode.removeChild(f); }
  }
  document.querySelectorAll("[data-alert-read]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var item = form.closest("[data-alert-id]");
      api("POST", "/api/v1/alerts/" + item.getAttribute("data-alert-id") + "/read")
        .then(function (res) {
          markItemRead(item);
          if (typeof res.unread === "number") { setUnread(res.unread); }
        })
        .catch(function (err) { toast(null, err.message); });
    });
  });
  var readAll = document.querySelector("[data-alerts-read-all]");
  if (readAll) {
    readAll.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/alerts/read-all").then(function () {
        document.querySelectorAll("[data-alert-id].is-unread").forEach(markItemRead);
        setUnread(0);
      }).catch(function (err) { toast(null, err.message); });
    });
  }
})();
