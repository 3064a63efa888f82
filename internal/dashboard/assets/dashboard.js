"use strict";
// The ffbatch dashboard: polls the Status page's JSON (the Status API's
// document, served next to this page at dashboard/status under the same
// function key) every two seconds and redraws the page in place. Every value
// from the API goes into the page as text (textContent, attributes), never
// as markup. docs/status-api.md describes the document.
(() => {
  const refreshMillis = 2000;
  const key = new URLSearchParams(location.search).get("code") || "";
  const statusPath = location.pathname.replace(/\/?$/, "/status");
  const $ = (id) => document.getElementById(id);
  const svgNS = "http://www.w3.org/2000/svg";
  const state = { marker: "", markers: [], timer: 0, inflight: null, last: null };

  // h builds an element: h("a", {href: u, class: "x"}, "text", child).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v; else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === "") continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  function svg(tag, attrs) {
    const el = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  }

  const fmt = {
    bytes(n) {
      if (!n) return "—";
      const u = ["B", "KB", "MB", "GB", "TB"];
      let i = 0;
      while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
      return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + " " + u[i];
    },
    millis(ms) {
      if (ms === null || ms === undefined || ms < 0) return "—";
      const s = ms / 1000;
      if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
      const m = Math.floor(s / 60);
      if (m < 60) return m + " min " + Math.round(s % 60) + " s";
      return Math.floor(m / 60) + " h " + (m % 60) + " min";
    },
    time(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; },
    rate(n) { return n >= 10 ? n.toFixed(0) : n.toFixed(2); },
  };
  const t = (iso) => (iso ? Date.parse(iso) : 0);
  const span = (from, to) => (from && to ? to - from : null);

  // timings of a row: wait (queued until started), run, total.
  function timings(r, now) {
    const queued = t(r.submittedAt) || t(r.queuedAt);
    const started = t(r.startedAt);
    const ended = t(r.finishedAt) || t(r.answeredAt);
    const live = r.state === "queued" || r.state === "submitted" || r.state === "running";
    return {
      wait: r.reused ? null : span(queued, started || (live ? now : 0)),
      run: started ? span(started, ended || (live ? now : 0)) : null,
      total: span(t(r.queuedAt) || queued, ended || (live ? now : 0)),
    };
  }

  function query() {
    const p = new URLSearchParams();
    const c = $("f-container").value, pre = $("f-prefix").value, st = $("f-state").value;
    if (c) p.set("container", c);
    if (pre) p.set("prefix", pre);
    if (st) p.set("state", st);
    if (state.marker) p.set("marker", state.marker);
    return p;
  }

  async function refresh() {
    clearTimeout(state.timer);
    if (state.inflight) state.inflight.abort();
    const ctl = new AbortController();
    state.inflight = ctl;
    const timeout = setTimeout(() => ctl.abort(), 15000);
    try {
      const headers = { Accept: "application/json" };
      if (key) headers["x-functions-key"] = key;
      const resp = await fetch(statusPath + "?" + query(), { headers, signal: ctl.signal, cache: "no-store" });
      if (!resp.ok) {
        const why = resp.status === 401 ? "not authorised: open the dashboard with ?code=<function key>" : "HTTP " + resp.status;
        throw new Error(why);
      }
      const page = await resp.json();
      state.last = page;
      render(page);
      setUpdated("Updated " + fmt.time(page.generatedAt) + (page.problems && page.problems.length ? " · some parts unavailable" : ""), false);
    } catch (err) {
      if (ctl.signal.aborted && state.inflight !== ctl) return; // superseded by a newer refresh
      setUpdated("Cannot reach the Status API (" + err.message + "); retrying", true);
    } finally {
      clearTimeout(timeout);
      if (state.inflight === ctl) {
        state.inflight = null;
        state.timer = setTimeout(refresh, refreshMillis);
      }
    }
  }

  function setUpdated(text, error) {
    const el = $("updated");
    el.textContent = text;
    el.classList.toggle("error", error);
  }

  function render(page) {
    const now = t(page.generatedAt) || Date.now();
    renderContainers(page);
    renderProgress(page);
    renderChart(page.activity, now);
    renderPool(page);
    keepFocus(() => renderRows(page, now));
    renderEvents(page.activity.recent);
    $("next-page").disabled = !page.next;
    $("first-page").disabled = !state.marker;
  }

  function renderContainers(page) {
    const sel = $("f-container");
    const want = page.containers.join("\n");
    if (sel.dataset.list === want) return;
    const current = sel.value || page.query.container;
    sel.replaceChildren(...page.containers.map((c) => h("option", { value: c, selected: c === current }, c)));
    sel.dataset.list = want;
  }

  function inFlight(page) {
    let n = 0;
    if (page.tasks) n += page.tasks.active + page.tasks.running + page.tasks.completed;
    if (page.queue && page.queue.known) n += page.queue.active + page.queue.scheduled;
    return n;
  }

  function renderProgress(page) {
    const tot = page.activity.totals;
    const done = tot.succeeded + tot.failed + tot.reused + tot.refused;
    const flying = inFlight(page);
    const pct = done + flying ? Math.round((100 * done) / (done + flying)) : 100;
    $("progress-fill").style.width = pct + "%";
    $("progress").setAttribute("aria-valuenow", String(pct));
    $("progress").setAttribute("aria-valuetext", done + " done, " + flying + " in flight");
    $("progress-text").textContent = done + " answered in the last hour · " + flying + " in flight" +
      (page.queue && !page.queue.known ? " (queue depth unknown)" : "");
    const mins = page.activity.minutes;
    const since = (n) => mins.filter((m) => t(m.minute) >= t(page.generatedAt) - n * 60000);
    const sum = (ms, f) => ms.reduce((a, m) => a + f(m), 0);
    const files = (ms) => sum(ms, (m) => m.succeeded + m.failed);
    const audio = (ms) => sum(ms, (m) => m.audioMillis) / 60000;
    const recent = since(5);
    facts($("throughput"), [
      ["Succeeded / failed (1 h)", tot.succeeded + " / " + tot.failed + (tot.reused ? " · " + tot.reused + " reused" : "") + (tot.refused ? " · " + tot.refused + " rejected or ignored" : "")],
      ["Files per minute", fmt.rate(files(recent) / 5) + " (last 5 min) · " + fmt.rate(files(mins) / 60) + " (last hour)"],
      ["Audio minutes per minute", tot.succeeded && !tot.audioMillis ? "not known (ffmpeg's logs gave no durations)"
        : fmt.rate(audio(recent) / 5) + " (last 5 min) · " + fmt.rate(audio(mins) / 60) + " (last hour)"],
    ]);
  }

  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  }

  // renderChart draws one bar per minute of the last hour (succeeded, failed
  // and the other answers stacked) and the audio minutes as a line.
  function renderChart(activity, now) {
    const el = $("chart");
    const W = 600, H = 140, top = 8, bottom = 18, left = 4;
    const slots = activity.windowMinutes || 60;
    const end = Math.floor(now / 60000);
    const bins = Array.from({ length: slots }, () => ({ ok: 0, bad: 0, other: 0, audio: 0 }));
    for (const m of activity.minutes) {
      const i = slots - 1 - (end - Math.floor(t(m.minute) / 60000));
      if (i < 0 || i >= slots) continue;
      bins[i].ok += m.succeeded; bins[i].bad += m.failed; bins[i].other += m.reused + m.refused;
      bins[i].audio += m.audioMillis / 60000;
    }
    const maxFiles = Math.max(1, ...bins.map((b) => b.ok + b.bad + b.other));
    const maxAudio = Math.max(1, ...bins.map((b) => b.audio));
    const bw = (W - left) / slots, ph = H - top - bottom;
    const kids = [svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W, y2: H - bottom })];
    bins.forEach((b, i) => {
      let y = H - bottom;
      for (const [cls, n] of [["ok", b.ok], ["bad", b.bad], ["other", b.other]]) {
        if (!n) continue;
        const hgt = (n / maxFiles) * ph;
        y -= hgt;
        kids.push(svg("rect", { class: cls, x: left + i * bw + 1, y, width: Math.max(bw - 2, 1), height: hgt }));
      }
    });
    const pts = bins.map((b, i) => [left + i * bw + bw / 2, H - bottom - (b.audio / maxAudio) * ph]);
    if (bins.some((b) => b.audio > 0)) kids.push(svg("polyline", { class: "audio", points: pts.map((p) => p.join(",")).join(" ") }));
    const label = (x, anchor, text) => { const e = svg("text", { x, y: H - 4, "text-anchor": anchor }); e.textContent = text; return e; };
    kids.push(label(left, "start", "−60 min"), label(W / 2, "middle", "−30 min"), label(W - 2, "end", "now"));
    const peak = svg("text", { x: left + 2, y: top + 10 });
    peak.textContent = "peak " + maxFiles + " files/min";
    kids.push(peak);
    const desc = svg("desc", { id: "chart-desc" });
    const tot = activity.totals;
    desc.textContent = tot.succeeded + " succeeded, " + tot.failed + " failed, " + (tot.reused + tot.refused) +
      " other answers and " + fmt.rate(tot.audioMillis / 60000) + " audio minutes in the last hour; at most " + maxFiles + " files in one minute.";
    el.replaceChildren(desc, ...kids);
  }

  function renderPool(page) {
    const p = page.pool, tasks = page.tasks, q = page.queue;
    const queue = q.known ? q.active + " waiting, " + q.scheduled + " scheduled" + (q.deadLetter ? ", " + q.deadLetter + " dead-lettered" : "")
      : "unknown (" + (q.reason || "not readable") + ")";
    const taskText = tasks ? tasks.active + " pending, " + tasks.running + " running, " + tasks.completed + " completed" : "no job";
    if (!p) {
      facts($("pool-facts"), [["Pool", "none (created on the next submission)"], ["Tasks", taskText], ["Queue (" + q.name + ")", queue]]);
      $("heatmap").replaceChildren(h("li", { class: "empty" }, "No nodes"));
      return;
    }
    facts($("pool-facts"), [
      ["Pool", p.id + " · " + p.state + ", " + p.allocationState],
      ["Nodes", (p.currentDedicatedNodes + p.currentSpotNodes) + " (" + p.currentDedicatedNodes + " dedicated, " + p.currentSpotNodes + " spot)"],
      [p.autoscale ? "Autoscale target" : "Target", (p.targetDedicatedNodes + p.targetSpotNodes) + " (" + p.targetDedicatedNodes + " dedicated, " + p.targetSpotNodes + " spot)"],
      ["Task slots", p.slots.running + " of " + p.slots.total + " busy (" + p.taskSlotsPerNode + " per node)"],
      ["Tasks", taskText],
      ["Queue (" + q.name + ")", queue],
    ]);
    const cells = p.nodes.map((n) => {
      const label = n.id + ": " + n.state + ", " + n.runningSlots + " of " + p.taskSlotsPerNode + " slots busy" + (n.dedicated ? "" : " (spot)");
      const pips = Array.from({ length: Math.min(p.taskSlotsPerNode, 16) }, (_, i) => h("span", { class: "slot" + (i < n.runningSlots ? " busy" : ""), "aria-hidden": "true" }));
      return h("li", { class: "heat-" + n.heat, title: label, "aria-label": label }, pips);
    });
    if (!cells.length) cells.push(h("li", { class: "empty" }, "No nodes"));
    if (p.nodesTruncated) cells.push(h("li", { class: "empty" }, "… more nodes"));
    $("heatmap").replaceChildren(...cells);
  }

  // keepFocus redraws with fn and puts the keyboard focus and the open
  // stderr excerpts back where they were.
  function keepFocus(fn) {
    const active = document.activeElement;
    const focusKey = active && active.dataset ? active.dataset.key : undefined;
    const open = new Set([...document.querySelectorAll("#rows details[open]")].map((d) => d.dataset.key));
    fn();
    for (const d of document.querySelectorAll("#rows details")) if (open.has(d.dataset.key)) d.open = true;
    if (focusKey) {
      const again = document.querySelector('[data-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
    }
  }

  function renderRows(page, now) {
    const body = $("rows");
    if (!page.rows.length) {
      body.replaceChildren(h("tr", { class: "empty-row" }, h("td", { colspan: 10 }, "No files match.")));
    } else {
      body.replaceChildren(...page.rows.map((r) => row(r, now)));
    }
    const n = page.rows.length;
    $("files-caption").textContent = n + (n === 1 ? " file" : " files") + " in " + page.query.container + ", in name order" +
      (page.next ? " (more on the next page)" : "") + ": the latest request of each.";
    $("scan-note").textContent = page.scan.limited
      ? "The state filter looked at " + page.scan.listed + " files in " + page.scan.requests + " listing pages and stopped; use Next page to look further."
      : "";
  }

  function row(r, now) {
    const k = r.container + "/" + r.blob;
    const tm = timings(r, now);
    const stateCell = h("td", { class: "state" }, h("span", { class: "badge " + r.state }, r.state));
    if (r.reason) stateCell.append(h("p", { class: "reason" }, r.reason));
    if (r.stderr) {
      stateCell.append(h("details", { "data-key": "stderr:" + k },
        h("summary", { "data-key": "summary:" + k }, "ffmpeg stderr"), h("pre", null, r.stderr)));
    }
    const links = h("td", { class: "links" });
    if (r.links) {
      for (const [name, url] of [["MP3", r.links.output], ["stdout", r.links.stdout], ["stderr", r.links.stderr]]) {
        if (url) links.append(h("a", { href: url, "data-key": name + ":" + k, rel: "noreferrer", target: "_blank",
          "aria-label": name + " of " + r.blob + " (link valid until " + fmt.time(r.links.expiresAt) + ")" }, name));
      }
    }
    const attempts = 1 + (r.attempt || 0);
    const attemptText = attempts + (r.retries ? " · " + r.retries + " retries" : "") + (r.requeues ? " · " + r.requeues + " requeued" : "");
    return h("tr", { "data-blob": r.blob, "data-state": r.state },
      h("th", { scope: "row" }, r.blob + (r.blobCut ? "…" : ""), r.requests > 1 ? h("span", { class: "note" }, " (" + r.requests + " requests)") : ""),
      stateCell,
      h("td", null, r.preset || "—"),
      h("td", null, r.output ? r.output + (r.outputCut ? "…" : "") + (r.reused ? " (reused)" : "") : "—"),
      h("td", { class: "num" }, fmt.bytes(r.size) + " → " + fmt.bytes(r.outputSize) + (r.audioMillis ? " · " + fmt.millis(r.audioMillis) + " audio" : "")),
      h("td", { class: "num" }, fmt.millis(tm.wait)),
      h("td", { class: "num" }, fmt.millis(tm.run)),
      h("td", { class: "num" }, fmt.millis(tm.total)),
      h("td", { class: "num" }, attemptText),
      links);
  }

  function renderEvents(recent) {
    const list = $("events");
    if (!recent.length) {
      list.replaceChildren(h("li", null, "No answers in the last hour."));
      return;
    }
    list.replaceChildren(...recent.map((a) => h("li", null,
      h("time", { datetime: a.time }, fmt.time(a.time)),
      h("span", { class: "badge " + a.state }, a.state + (a.reused ? " (reused)" : "")),
      h("span", { class: "what" }, a.container + "/" + a.blob + (a.output ? " → " + a.output : "")),
      a.reason ? h("span", { class: "why" }, a.reason) : "")));
  }

  // Filters: a change starts over at the first page and refreshes at once
  // (typing waits for a pause).
  let typing = 0;
  function restart() {
    state.marker = "";
    state.markers = [];
    refresh();
  }
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); restart(); });
  $("f-container").addEventListener("change", restart);
  $("f-state").addEventListener("change", restart);
  $("f-prefix").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(restart, 300); });
  $("next-page").addEventListener("click", () => {
    if (!state.last || !state.last.next) return;
    state.markers.push(state.marker);
    state.marker = state.last.next;
    refresh();
  });
  $("first-page").addEventListener("click", restart);
  refresh();
})();
