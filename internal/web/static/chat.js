// Chat panel beside the player (protocol: docs/chat-protocol.md). Every string a user wrote is
// rendered with textContent, never as HTML. The socket reconnects by itself with exponential
// backoff and full jitter, resuming after the last message id it saw, so nothing is lost.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !root.dataset.socket) return;

  var d = root.dataset;
  var en = (document.documentElement.lang || "ko") === "en";
  var list = root.querySelector("[data-list]");
  var empty = root.querySelector("[data-empty]");
  var status = root.querySelector("[data-status]");
  var modes = root.querySelector("[data-modes]");
  var refusal = root.querySelector("[data-refusal]");
  var composer = root.querySelector("[data-composer]");
  var input = composer && composer.querySelector("input");
  var sendBtn = composer && composer.querySelector("button");
  var isMod = d.moderator === "true";

  var MAX_SHOWN = 300;          // messages kept on the page
  var seen = new Set();         // message ids already shown (resumes overlap on purpose)
  var lastId = "";              // newest message id seen, for ?after= on reconnect
  var ws = null, attempt = 0, stopped = false, timer = 0, refSeq = 0;
  var state = null, refusalTimer = 0, untilTimer = 0;

  function t(key) { return d["t" + key] || ""; }
  function fmt(s, k, v) { return s.split("{" + k + "}").join(v); }
  function setStatus(text) { status.textContent = text; status.hidden = !text; }
  // A duration in seconds in its largest whole unit ("10분", "1 d"), as the server's are set.
  function fmtDur(sec) {
    var units = [[86400, "DurD"], [3600, "DurH"], [60, "DurM"]];
    for (var i = 0; i < units.length; i++) {
      if (sec >= units[i][0] && sec % units[i][0] === 0) return fmt(t(units[i][1]), "n", String(sec / units[i][0]));
    }
    return fmt(t("DurS"), "n", String(sec));
  }
  function newer(a, b) { // decimal string ids, compared without losing precision
    if (a.length !== b.length) return a.length > b.length;
    return a > b;
  }

  // ---------- rendering ----------

  function badge(kind) {
    var s = document.createElement("span");
    s.className = "cp-badge cp-badge-" + kind;
    s.textContent = t({ owner: "Owner", manager: "Manager", admin: "Admin" }[kind] || "") || kind;
    return s;
  }

  function renderMsg(m) {
    var li = document.createElement("li");
    li.className = "cp-msg";
    li.dataset.id = m.id;
    if (m.user) li.dataset.user = String(m.user.id);
    var who = document.createElement(isMod && m.user ? "button" : "span");
    who.className = "cp-who";
    if (isMod && m.user) {
      who.type = "button";
      who.addEventListener("click", function () { openModbar(m); });
    }
    (m.user && m.user.badges || []).forEach(function (b) { who.appendChild(badge(b)); });
    var nick = document.createElement("span");
    nick.className = "cp-nick";
    nick.textContent = m.user ? m.user.nick : "";
    who.appendChild(nick);
    var text = document.createElement("span");
    text.className = "cp-text";
    text.textContent = m.text;
    if (m.masked) text.title = t("Masked");
    li.appendChild(who);
    li.appendChild(text);
    return li;
  }

  function renderSystem(ev) {
    var li = document.createElement("li");
    li.className = "cp-system";
    li.textContent = (en ? ev.en : ev.ko) || ev.ko || ev.en || "";
    return li;
  }

  function append(li) {
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(li);
    while (list.children.length > MAX_SHOWN) list.removeChild(list.firstChild);
    empty.hidden = true;
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function addMsg(m) {
    if (!m || !m.id || seen.has(m.id)) return;
    seen.add(m.id);
    if (!lastId || newer(m.id, lastId)) lastId = m.id;
    append(renderMsg(m));
  }

  function removeMsgs(ev) {
    Array.prototype.slice.call(list.querySelectorAll(".cp-msg")).forEach(function (li) {
      var id = li.dataset.id;
      if ((ev.ids && ev.ids.indexOf(id) >= 0) || (ev.up_to && !newer(id, ev.up_to))) li.remove();
    });
    empty.hidden = list.children.length > 0;
  }

  function applyState(s) {
    state = s;
    var tags = [];
    if (s.slow > 0) tags.push(fmt(t("Slow"), "n", String(s.slow)));
    if (s.followers_only) {
      tags.push(s.min_follow_seconds > 0 ? fmt(t("FollowersMin"), "d", fmtDur(s.min_follow_seconds)) : t("Followers"));
    }
    if (s.verified_only) tags.push(t("Verified"));
    modes.textContent = tags.join(" · ");
    var tools = root.querySelector("#chat-tools");
    if (tools) {
      tools.querySelector("[data-mod-slow]").value = String(s.slow || 0);
      tools.querySelector("[data-mod-followers]").checked = !!s.followers_only;
      setMinFollow(tools.querySelector("[data-mod-min-follow]"), s.min_follow_seconds || 0);
      tools.querySelector("[data-mod-verified]").checked = !!s.verified_only;
    }
    if (!composer) return;
    var you = s.you || {};
    var blocked = !you.can_send;
    clearTimeout(untilTimer);
    if (blocked && you.reason === "timed_out" && you.timeout_until) {
      // The server sends no event when a timeout runs out; open the composer again then
      // (the server still decides whether a message is accepted).
      untilTimer = setTimeout(function () {
        applyState(Object.assign({}, s, { you: Object.assign({}, you, { can_send: true, reason: "" }) }));
      }, Math.max(0, you.timeout_until - Date.now()) + 500);
    }
    input.disabled = sendBtn.disabled = blocked;
    root.classList.toggle("cp-blocked", blocked);
    if (blocked) {
      var r = you.reason || "";
      showRefusal(t("Reason" + r.charAt(0).toUpperCase() + r.slice(1)) || t("Stopped"), 0);
    } else if (!refusalTimer) {
      refusal.hidden = true;
    }
  }

  // setMinFollow shows the room's minimum follow age in the select, adding an option for an
  // age set elsewhere (another client, the API) that the list does not offer.
  function setMinFollow(sel, sec) {
    if (!sel) return;
    var v = String(sec);
    var found = Array.prototype.some.call(sel.options, function (o) { return o.value === v; });
    if (!found) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = fmtDur(sec);
      sel.appendChild(o);
    }
    sel.value = v;
  }

  function showRefusal(text, ms) {
    if (!refusal) return;
    clearTimeout(refusalTimer);
    refusalTimer = 0;
    refusal.textContent = text;
    refusal.hidden = !text;
    if (ms > 0) refusalTimer = setTimeout(function () { refusalTimer = 0; refusal.hidden = true; }, ms);
  }

  function handle(ev) {
    switch (ev.t) {
      case "state": applyState(ev); break;
      case "history": (ev.msgs || []).forEach(addMsg); empty.hidden = list.children.length > 0; break;
      case "msg": addMsg(ev); break;
      case "msg.deleted": removeMsgs(ev); break;
      case "system": append(renderSystem(ev)); break;
      case "error":
        var text = (en ? ev.en : ev.ko) || ev.code;
        // The text says how long to wait (a follow too recent can mean days); it stays up for
        // the wait, at most a minute, and never beyond what a timer can hold.
        showRefusal(text, ev.retry_after_ms ? Math.min(Math.max(3000, ev.retry_after_ms), 60000) : 5000);
        break;
    }
  }

  // ---------- the socket ----------

  function connect() {
    clearTimeout(timer);
    if (stopped) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + d.socket;
    if (lastId) url += "?after=" + encodeURIComponent(lastId);
    ws = new WebSocket(url);
    ws.onmessage = function (e) {
      var evs;
      try { evs = JSON.parse(e.data); } catch (_) { return; }
      if (!Array.isArray(evs)) evs = [evs];
      evs.forEach(handle);
      if (attempt || status.textContent) { attempt = 0; setStatus(""); }
    };
    ws.onclose = function (e) {
      ws = null;
      if (composer) { input.disabled = sendBtn.disabled = true; }
      if (e.code === 4003) { // banned: say so once, beside the composer when there is one
        stop(refusal ? "" : t("Banned"));
        showRefusal(t("Banned"), 0);
        return;
      }
      if (e.code === 4004) { stop(t("NotFound")); return; }
      if (e.code === 1008 || e.code === 1009 || e.code === 1003) { stop(t("Stopped")); return; }
      if (stopped) return;
      // Full jitter: a random wait up to min(30 s, 0.5 s × 2^attempt), so a restarted
      // server is not hit by every client at the same instant.
      var wait = Math.random() * Math.min(30000, 500 * Math.pow(2, attempt));
      attempt++;
      setStatus(t("Reconnecting"));
      timer = setTimeout(connect, wait);
    };
  }

  function stop(text) {
    stopped = true;
    clearTimeout(timer);
    setStatus(text);
    if (ws) ws.close(1000);
  }

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    obj.v = 1;
    obj.ref = "c" + (++refSeq);
    ws.send(JSON.stringify(obj));
    return true;
  }

  if (composer) {
    composer.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      if (send({ t: "msg.send", text: text })) input.value = "";
    });
  }

  // ---------- moderation (the server checks every action) ----------

  var modbar = root.querySelector("[data-modbar]");
  var target = null;

  function openModbar(m) {
    if (!modbar) return;
    target = m;
    modbar.querySelector("[data-modbar-nick]").textContent = m.user.nick;
    modbar.querySelector("[data-modbar-id]").textContent = fmt(t("UserId"), "id", String(m.user.id));
    modbar.hidden = false;
  }

  if (modbar) {
    modbar.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-act]");
      if (!btn || !target) return;
      var act = btn.dataset.act, uid = target.user.id;
      if (act === "delete") send({ t: "msg.delete", id: target.id });
      else if (act === "timeout") send({ t: "mod.timeout", user: uid, seconds: 600 });
      else if (act === "ban") send({ t: "mod.ban", user: uid });
      else if (act === "unban") send({ t: "mod.unban", user: uid });
      modbar.hidden = true;
      target = null;
    });
  }

  var tools = root.querySelector("#chat-tools");
  var toggle = root.querySelector("[data-mod-toggle]");
  if (tools && toggle) {
    toggle.addEventListener("click", function () {
      tools.hidden = !tools.hidden;
      toggle.setAttribute("aria-expanded", String(!tools.hidden));
    });
    tools.querySelector("[data-mod-slow]").addEventListener("change", function (e) {
      send({ t: "mod.slow", seconds: parseInt(e.target.value, 10) || 0 });
    });
    tools.querySelector("[data-mod-followers]").addEventListener("change", function (e) {
      send({ t: "mod.mode", followers_only: e.target.checked });
      if (state) e.target.checked = !!state.followers_only; // the state event sets it when accepted
    });
    tools.querySelector("[data-mod-min-follow]").addEventListener("change", function (e) {
      send({ t: "mod.mode", min_follow_seconds: parseInt(e.target.value, 10) || 0 });
      if (state) setMinFollow(e.target, state.min_follow_seconds || 0); // set again by the state event
    });
    tools.querySelector("[data-mod-verified]").addEventListener("change", function (e) {
      send({ t: "mod.mode", verified_only: e.target.checked });
      if (state) e.target.checked = !!state.verified_only;
    });
    tools.querySelector("[data-mod-clear]").addEventListener("click", function () { send({ t: "mod.clear" }); });
    tools.querySelector("[data-mod-unban-form]").addEventListener("submit", function (e) {
      e.preventDefault();
      var field = e.target.querySelector("input");
      var id = parseInt(field.value, 10);
      if (id > 0 && send({ t: "mod.unban", user: id })) field.value = "";
    });
  }

  window.addEventListener("pagehide", function () { stopped = true; if (ws) ws.close(1001); });
  connect();
})();
