// Freely — the channel page player. Plays the channel's Low-Latency HLS stream with hls.js
// (native HLS on Safari), follows the live status stream so the page switches to the video by
// itself when a broadcast starts and back to the offline card when it ends, and keeps title,
// category, tags, viewers and elapsed time current. User text only ever goes in through
// textContent.
(function () {
  "use strict";

  var root = document.getElementById("player");
  if (!root || !root.dataset.playlist) return;

  var video = root.querySelector(".lp-video");
  var offline = root.querySelector(".lp-offline");
  var top = root.querySelector(".lp-top");
  var info = root.querySelector(".lp-info");
  var unmute = root.querySelector(".lp-unmute");
  var message = root.querySelector(".lp-message");
  var lang = document.documentElement.lang || "ko";

  // Live-edge settings, chosen by measuring glass-to-glass latency in headless Chromium (the
  // browser test in internal/app reads a clock that ffmpeg draws into the frames), in
  // interleaved runs of the candidates on a 2-core machine:
  //   - hls.js low-latency defaults (target = the playlist's PART-HOLD-BACK, 0.5 s with
  //     200 ms parts): 0.70 s median, but after a few stalls 1.40 s: each stall adds 1 s to
  //     the target and nothing ever catches up;
  //   - the same target with a catch-up rate of 1.1 and 0.25 s per stall (these settings):
  //     0.69-0.78 s median over five runs, back near the target after a stall;
  //   - a 0.4 s target: 0.59-0.63 s, but three stalls in 25 s under moderate load.
  // Under very heavy load (load average 15-30) every setting stalls; the catch-up keeps the
  // latency from ratcheting up. A player far behind (a tab in the background) jumps to the
  // live edge instead of speeding up (see catchUp).
  var HLS_CONFIG = {
    lowLatencyMode: true,
    maxLiveSyncPlaybackRate: 1.1,
    liveSyncOnStallIncrease: 0.25,
    backBufferLength: 10,
    // An endless duration makes the browser's own controls show a live stream (no seek bar
    // to a fixed end).
    liveDurationInfinity: true,
    enableWorker: true
  };
  var MAX_BEHIND_S = 5;

  // A random id per page view, carried on the playlist URL (?vs=) so the server counts this
  // viewer, also through a CDN that passes playlists through.
  var viewingSession = (function () {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return window.btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  })();

  var state = {
    live: root.dataset.live === "true",
    startedAt: root.dataset.startedAt ? Date.parse(root.dataset.startedAt) : NaN
  };
  var hls = null;
  var hlsScript = null;
  var playing = false;
  var retryTimer = 0;
  var waitingTimer = 0;

  // The page's test and support hook: the hls.js instance (hls.latency etc.) while it plays.
  window.freelyPlayer = {
    get hls() { return hls; },
    video: video,
    viewingSession: viewingSession
  };

  function playlistURL() {
    return root.dataset.playlist + "?vs=" + encodeURIComponent(viewingSession);
  }

  function showMessage(kind) {
    if (!kind) { message.hidden = true; return; }
    message.textContent = message.dataset[kind] || "";
    message.hidden = false;
  }

  function isApple() {
    return /Apple/.test(navigator.vendor || "");
  }

  function nativeHLS() {
    return video.canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  function loadHlsJs() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!root.dataset.hlsjs) return Promise.reject(new Error("hls.js is not installed"));
    if (!hlsScript) {
      hlsScript = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = root.dataset.hlsjs;
        s.async = true;
        s.onload = function () { window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not load")); };
        s.onerror = function () { hlsScript = null; reject(new Error("hls.js did not load")); };
        document.head.appendChild(s);
      });
    }
    return hlsScript;
  }

  // play starts the video with sound when the browser allows it, muted otherwise (with a
  // button to turn the sound on).
  function play() {
    var p = video.play();
    if (!p || !p.catch) return;
    p.catch(function (err) {
      if (!err || err.name !== "NotAllowedError") return;
      video.muted = true;
      unmute.hidden = false;
      video.play().catch(function () {});
    });
  }

  function startPlayback() {
    if (playing || root.dataset.suspended === "true") return;
    playing = true;
    showMessage("");
    // Safari plays LL-HLS natively and best; everywhere else hls.js drives Media Source
    // Extensions (newer Chrome also claims native HLS, without LL-HLS's low latency).
    if (isApple() && nativeHLS()) {
      video.src = playlistURL();
      play();
      return;
    }
    loadHlsJs().then(function (Hls) {
      if (!playing) return;
      if (!Hls.isSupported()) throw new Error("no Media Source Extensions");
      hls = new Hls(HLS_CONFIG);
      hls.on(Hls.Events.MANIFEST_PARSED, play);
      hls.on(Hls.Events.ERROR, function (_, data) {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
          return;
        }
        // The stream is not there (yet, or any more): start again shortly while the channel
        // is live; the status stream says when it ends.
        restartSoon();
      });
      hls.loadSource(playlistURL());
      hls.attachMedia(video);
    }).catch(function () {
      if (!playing) return;
      if (nativeHLS()) {
        video.src = playlistURL();
        play();
      } else {
        playing = false;
        showMessage("unsupported");
      }
    });
  }

  function stopPlayback() {
    playing = false;
    window.clearTimeout(retryTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (video.getAttribute("src")) {
      video.removeAttribute("src");
      video.load();
    }
    unmute.hidden = true;
  }

  // catchUp jumps to the live edge when playback has fallen far behind it (the tab slept,
  // the network paused): a live viewer wants now, not what they missed.
  function catchUp() {
    if (!hls || video.paused || hls.latency <= MAX_BEHIND_S) return;
    var pos = hls.liveSyncPosition;
    if (pos !== null && pos > video.currentTime) video.currentTime = pos;
  }

  function restartSoon() {
    stopPlayback();
    retryTimer = window.setTimeout(function () {
      if (state.live) startPlayback();
    }, 2000);
  }

  function formatCount(n) {
    return String(Math.max(0, n | 0)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function formatElapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var mm = h > 0 && m < 10 ? "0" + m : String(m);
    return (h > 0 ? h + ":" : "") + mm + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function setText(sel, text) {
    root.querySelectorAll(sel).forEach(function (el) { el.textContent = text; });
  }

  function tick() {
    if (state.live && !isNaN(state.startedAt)) setText("[data-elapsed]", formatElapsed(Date.now() - state.startedAt));
  }

  function renderStatus(st) {
    setText("[data-title]", st.title || root.dataset.noTitle || "");
    var cat = root.querySelector("[data-category]");
    if (st.category && st.category.slug) {
      cat.textContent = lang === "en" && st.category.name_en ? st.category.name_en : (st.category.name_ko || st.category.slug);
      cat.href = "/search?category=" + encodeURIComponent(st.category.slug);
      cat.hidden = false;
    } else {
      cat.hidden = true;
    }
    var tags = root.querySelector("[data-tags]");
    while (tags.firstChild) tags.removeChild(tags.firstChild);
    (st.tags || []).forEach(function (tag) {
      var a = document.createElement("a");
      a.className = "lp-tag";
      a.href = "/search?q=" + encodeURIComponent(tag);
      a.textContent = "#" + tag;
      tags.appendChild(a);
    });
    setText("[data-viewers]", formatCount(st.viewers));
    setText("[data-viewers-text]", (root.dataset.fmtViewers || "{n}").replace("{n}", formatCount(st.viewers)));
    state.startedAt = st.started_at ? Date.parse(st.started_at) : NaN;
    tick();
  }

  function applyStatus(st) {
    if (!st || typeof st.live !== "boolean") return;
    var wasLive = state.live;
    state.live = st.live;
    root.classList.toggle("is-live", st.live);
    offline.hidden = st.live;
    top.hidden = !st.live;
    info.hidden = !st.live;
    video.hidden = !st.live;
    if (st.live) {
      renderStatus(st);
      if (st.thumbnail_url && !playing) video.poster = st.thumbnail_url;
      startPlayback();
      poll();
    } else {
      if (wasLive || playing) {
        stopPlayback();
        showMessage("");
      }
      listen();
    }
  }

  unmute.addEventListener("click", function () {
    video.muted = false;
    unmute.hidden = true;
    video.play().catch(function () {});
  });
  video.addEventListener("volumechange", function () {
    if (!video.muted) unmute.hidden = true;
  });
  // A live stream that stalls for a while is usually a publisher reconnecting.
  video.addEventListener("waiting", function () {
    window.clearTimeout(waitingTimer);
    waitingTimer = window.setTimeout(function () { if (state.live) showMessage("waiting"); }, 3000);
  });
  video.addEventListener("playing", function () {
    window.clearTimeout(waitingTimer);
    showMessage("");
  });

  // Following the status: while nothing plays, the status stream (server-sent events) says
  // the moment a broadcast starts. While the video plays, hls.js already holds several
  // connections to this host and browsers allow only six per host over HTTP/1.1 (a second
  // tab would starve), so the page asks for the status every few seconds instead.
  var events = null;
  var pollTimer = 0;
  var POLL_MS = 5000;

  function pollOnce() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(applyStatus)
      .catch(function () {});
  }

  function poll() {
    if (events) {
      events.close();
      events = null;
    }
    if (!pollTimer) pollTimer = window.setInterval(pollOnce, POLL_MS);
  }

  function listen() {
    if (!window.EventSource || !root.dataset.events) {
      poll();
      return;
    }
    window.clearInterval(pollTimer);
    pollTimer = 0;
    if (events) return;
    events = new EventSource(root.dataset.events);
    events.addEventListener("status", function (ev) {
      try { applyStatus(JSON.parse(ev.data)); } catch (e) { /* a malformed frame changes nothing */ }
    });
  }

  function follow() {
    if (state.live) poll(); else listen();
  }

  window.setInterval(tick, 1000);
  window.setInterval(catchUp, 5000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) catchUp();
  });
  if (state.live) startPlayback();
  follow();
})();
