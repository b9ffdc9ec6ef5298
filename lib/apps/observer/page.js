// Observer page: polls the JSON API once a second and redraws the charts, the
// supervision trees (SVG), the process table, the detail panel and the ETS
// table. Plain browser JavaScript, no build step, no external resources.
// Every value from the server goes into the DOM as text, never as markup.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const POLL_MS = 1000;
  const NODE_W = 178, NODE_H = 36, COL_W = 214, ROW_H = 44, PAD = 6;

  const state = {
    readOnly: false,
    selected: null, // pid string
    sort: { key: "id", desc: false },
    filter: "",
    processes: [],
    // Tree memory, to show restarts and newcomers: "app/child path" -> { pid, restarts, changedAt }
    slots: new Map(),
    seenPids: new Set(),
    firstTree: true,
    killTarget: null,
    inFlight: false,
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else e.setAttribute(k, v);
      }
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    if (attrs) { for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v)); }
    return e;
  };

  // ------------------------------------------------------------ formatting

  const fmtBytes = (n) => {
    if (!(n >= 0)) return "–";
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  };
  const fmtNum = (n) => (n == null ? "–" : Number(n).toLocaleString("en-US"));
  const fit = (s, max) => (s.length > max ? s.slice(0, max - 1) + "…" : s);

  // ------------------------------------------------------------ API

  async function api(path, init) {
    const res = await fetch(path, { cache: "no-store", ...init });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
    return body;
  }

  // ------------------------------------------------------------ charts

  const CHARTS = [
    { key: "processes", label: "Processes", fmt: fmtNum },
    { key: "runQueue", label: "Run queue", fmt: fmtNum },
    { key: "messagesPerSecond", label: "Messages / s", fmt: fmtNum },
    { key: "eventLoopLag", label: "Event-loop lag", fmt: (v) => `${Number(v).toFixed(1)} ms` },
    { key: "heapUsed", label: "Heap used", fmt: fmtBytes },
  ];

  function buildCharts() {
    const box = $("charts");
    for (const c of CHARTS) {
      const s = svg("svg", { viewBox: "0 0 100 34", preserveAspectRatio: "none", "aria-hidden": "true" });
      c.area = svg("polygon");
      c.line = svg("polyline");
      s.append(c.area, c.line);
      c.value = el("div", { class: "value", text: "–" });
      box.append(
        el("div", { class: "chart", "data-chart": c.key }, el("div", { class: "label", text: c.label }), c.value, s),
      );
    }
  }

  function drawCharts(sys) {
    const hist = sys.history.concat([sys.now]);
    for (const c of CHARTS) {
      const vals = hist.map((h) => Number(h[c.key]) || 0);
      c.value.textContent = c.fmt(sys.now[c.key]);
      const max = Math.max(1, ...vals), min = Math.min(0, ...vals);
      const n = vals.length;
      const pts = vals.map((v, i) => {
        const x = n === 1 ? 100 : (i / (n - 1)) * 100;
        const y = 32 - ((v - min) / (max - min)) * 30;
        return `${x.toFixed(2)},${y.toFixed(2)}`;
      });
      c.line.setAttribute("points", pts.join(" "));
      c.area.setAttribute("points", `0,34 ${pts.join(" ")} 100,34`);
    }
  }

  // ------------------------------------------------------------ trees

  function label(node) {
    if (node.name) return node.name;
    if (node.label) return node.label;
    if (node.id) return node.id;
    return node.behaviour || node.state;
  }

  /** Lays out a tree left to right: leaves on consecutive rows, parents centred. */
  function layout(root) {
    let row = 0;
    const out = [];
    const walk = (n, depth, path, parent) => {
      const item = { n, depth, path, parent, y: 0, kids: [] };
      out.push(item);
      const kids = n.children || [];
      if (kids.length === 0) {
        item.y = row++;
      } else {
        kids.forEach((k, i) =>
          item.kids.push(walk(k, depth + 1, `${path}/${k.id != null ? "id:" + k.id : "pid:" + (k.pid || i)}`, n.pid))
        );
        if (n.omitted) item.omittedRow = row++;
        item.y = (item.kids[0].y + item.kids[item.kids.length - 1].y) / 2;
      }
      return item;
    };
    walk(root, 0, "", null);
    return { items: out, rows: row };
  }

  function drawTree(app) {
    const { items, rows } = layout(app.tree);
    const depth = Math.max(...items.map((i) => i.depth));
    const width = (depth + 1) * COL_W + PAD;
    const height = Math.max(1, rows) * ROW_H + PAD;
    const s = svg("svg", { class: "tree", width, height, viewBox: `0 0 ${width} ${height}`, "data-app": app.name });
    const x = (i) => PAD + i.depth * COL_W;
    const y = (i) => PAD + i.y * ROW_H;
    const now = Date.now();
    for (const it of items) {
      for (const k of it.kids) {
        const x1 = x(it) + NODE_W, y1 = y(it) + NODE_H / 2, x2 = x(k), y2 = y(k) + NODE_H / 2, mx = (x1 + x2) / 2;
        s.append(svg("path", { class: "edge", d: `M${x1},${y1} H${mx} V${y2} H${x2}` }));
      }
      if (it.omittedRow != null) {
        const t = svg("text", { class: "omitted", x: x(it) + COL_W, y: PAD + it.omittedRow * ROW_H + NODE_H / 2 });
        t.textContent = `… ${it.n.omitted} more children`;
        s.append(t);
      }
    }
    for (const it of items) {
      const n = it.n;
      const key = `${app.name}${it.path}`;
      // Restart detection: the same child slot (by id) now has a different pid.
      let slot = state.slots.get(key);
      if (slot === undefined) {
        slot = { pid: n.pid, restarts: 0, changedAt: 0 };
        state.slots.set(key, slot);
      } else if (n.pid && slot.pid && n.pid !== slot.pid && n.id != null) {
        slot.restarts++;
        slot.changedAt = now;
      }
      if (n.pid) slot.pid = n.pid;
      slot.seen = now;
      const fresh = n.pid && !state.firstTree && !state.seenPids.has(n.pid);
      const classes = ["node", n.type === "supervisor" ? "supervisor" : "worker"];
      if (n.state !== "running") classes.push(n.state === "busy" ? "busy" : "down");
      if (n.pid && n.pid === state.selected) classes.push("selected");
      if (now - slot.changedAt < 3000) classes.push("restarted");
      else if (fresh) classes.push("fresh");
      const g = svg("g", {
        class: classes.join(" "),
        transform: `translate(${x(it)},${y(it)})`,
        "data-pid": n.pid || "",
        "data-parent": it.parent || "",
        "data-restarts": slot.restarts,
        "data-id": n.id == null ? "" : n.id,
        "data-name": n.name || "",
        "data-behaviour": n.behaviour || "",
        "data-state": n.state,
        tabindex: "0",
      });
      const title = svg("title");
      title.textContent = `${label(n)} ${n.pid || ""} ${n.behaviour || ""} (${n.type}, ${n.state})`;
      const t1 = svg("text", { x: 9, y: 12 });
      t1.textContent = fit(label(n), 24);
      const t2 = svg("text", { class: "sub", x: 9, y: 26 });
      t2.textContent = fit(`${n.pid || n.state} ${n.behaviour || ""}`, 28);
      g.append(title, svg("rect", { width: NODE_W, height: NODE_H, rx: 6 }), t1, t2);
      if (slot.restarts > 0) {
        const r = svg("text", { class: "restarts", x: NODE_W - 8, y: 12, "text-anchor": "end" });
        r.textContent = `↻${slot.restarts}`;
        g.append(r);
      }
      if (n.pid) {
        g.addEventListener("click", () => select(n.pid));
        g.addEventListener("contextmenu", (e) => openMenu(e, n.pid));
        g.addEventListener("keydown", (e) => {
          if (e.key === "Enter") select(n.pid);
          if (e.key === "Delete") askKill(n.pid);
        });
      }
      s.append(g);
    }
    return s;
  }

  function drawApps(apps) {
    const box = $("apps");
    const scroll = [box.scrollLeft, box.scrollTop];
    const pids = new Set();
    const collect = (n) => {
      if (n.pid) pids.add(n.pid);
      (n.children || []).forEach(collect);
    };
    apps.forEach((a) => collect(a.tree));
    box.replaceChildren();
    if (apps.length === 0) box.append(el("p", { class: "empty", text: "No application is running." }));
    for (const a of apps) {
      box.append(
        el(
          "div",
          { class: "app", "data-app": a.name },
          el("div", { class: "app-title" }, `${a.name} `, el("span", { class: "mono", text: `${a.version} ${a.pid}` })),
          drawTree(a),
        ),
      );
    }
    box.scrollLeft = scroll[0];
    box.scrollTop = scroll[1];
    state.seenPids = pids;
    state.firstTree = false;
    const stale = Date.now() - 60_000;
    for (const [k, v] of state.slots) if (v.seen < stale) state.slots.delete(k);
  }

  // ------------------------------------------------------------ process table

  function pidLink(pid) {
    if (!pid) return document.createTextNode("–");
    const a = el("a", { class: "pidlink", href: "#", text: pid });
    a.addEventListener("click", (e) => {
      e.preventDefault();
      select(pid);
    });
    return a;
  }

  function drawProcesses(data) {
    state.processes = data.processes;
    const f = state.filter.toLowerCase();
    const rows = f === ""
      ? data.processes
      : data.processes.filter((p) =>
        p.pid.includes(f) || (p.name || p.label || "").toLowerCase().includes(f) ||
        p.behaviour.toLowerCase().includes(f) ||
        p.status.includes(f)
      );
    $("proc-count").textContent = data.total > data.processes.length
      ? `(${fmtNum(rows.length)} shown of ${fmtNum(data.total)})`
      : `(${fmtNum(rows.length)})`;
    const body = $("procs").tBodies[0];
    body.replaceChildren(...rows.map((p) => {
      const tr = el(
        "tr",
        { "data-pid": p.pid, class: p.pid === state.selected ? "selected" : "" },
        el("td", { text: p.pid }),
        el("td", { text: p.name || p.label || "" }),
        el("td", { text: p.behaviour }),
        el("td", { text: p.status }),
        el("td", { class: "num", text: fmtNum(p.messageQueueLen) }),
        el("td", { class: "num", text: fmtNum(p.messagesHandled) }),
        el("td", { class: "num", text: fmtBytes(p.memory) }),
        el("td", { text: p.parent || "" }),
      );
      tr.addEventListener("click", () => select(p.pid));
      tr.addEventListener("contextmenu", (e) => openMenu(e, p.pid));
      return tr;
    }));
    for (const th of $("procs").tHead.rows[0].cells) {
      const on = th.dataset.key === state.sort.key;
      th.classList.toggle("sorted", on);
      th.classList.toggle("asc", on && !state.sort.desc);
    }
  }

  function drawEts(data) {
    $("ets-count").textContent = `(${data.tables.length})`;
    const body = $("ets").tBodies[0];
    if (data.tables.length === 0) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty", text: "No table." })));
      return;
    }
    body.replaceChildren(...data.tables.map((t) => {
      const owner = el("td");
      owner.append(pidLink(t.owner));
      if (t.ownerName) owner.append(` ${t.ownerName}`);
      return el(
        "tr",
        {},
        el("td", { text: t.name }),
        owner,
        el("td", { text: t.type }),
        el("td", { text: t.access }),
        el("td", { class: "num", text: fmtNum(t.size) }),
        el("td", { class: "num", text: fmtBytes(t.memory) }),
      );
    }));
  }

  function drawLogs(data) {
    $("logs-count").textContent = `(${data.logs.length})`;
    const body = $("logs").tBodies[0];
    if (data.logs.length === 0) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "8", class: "empty", text: "No disk log." })));
      return;
    }
    body.replaceChildren(...data.logs.map((l) =>
      el(
        "tr",
        { "data-log": l.name, title: l.files.map((f) => `${f.path} (${f.kind}, ${f.bytes} B)`).join("\n") },
        el("td", { text: l.full ? `${l.name} (disk full)` : l.name }),
        el("td", { text: l.policy === "always" ? `always (fsync ${l.fsync})` : l.policy }),
        el("td", { class: "num", text: fmtNum(l.files.length) }),
        el("td", { class: "num", text: fmtBytes(l.bytes) }),
        el("td", { class: "num", text: fmtBytes(l.pendingBytes) }),
        el("td", { class: "num", text: fmtBytes(l.unsyncedBytes) }),
        el("td", { text: l.lastSync == null ? "never" : new Date(l.lastSync).toLocaleTimeString() }),
        el("td", { class: "num", text: fmtNum(l.compactions) }),
      )
    ));
  }

  function drawNodes(data) {
    $("nodes-self").textContent = data.alive ? `(this node: ${data.self})` : "(this runtime is not a distributed node)";
    const body = $("nodes").tBodies[0];
    if (data.nodes.length === 0) {
      const text = data.alive ? "No other node." : "Not distributed: start with a node name to join a cluster.";
      body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty", text })));
      return;
    }
    body.replaceChildren(...data.nodes.map((n) =>
      el(
        "tr",
        { "data-node": n.node, "data-state": n.state },
        el("td", { class: "mono", text: n.node }),
        el("td", { text: n.state }),
        el("td", { class: "num", text: fmtNum(n.links) }),
        el("td", { class: "num", text: fmtNum(n.monitors) }),
        el("td", { class: "num", text: fmtNum(n.monitoredBy) }),
        el("td", { class: "num", text: fmtNum(n.pendingCalls) }),
      )
    ));
  }

  // ------------------------------------------------------------ detail

  async function drawDetail() {
    const box = $("detail");
    const pid = state.selected;
    if (pid === null) return;
    let d;
    try {
      d = await api(`/api/process/${encodeURIComponent(pid)}`);
    } catch (e) {
      if (state.selected !== pid) return;
      box.replaceChildren(
        el("h3", { class: "mono", text: pid }),
        el("p", { class: "gone", text: e.status === 404 ? "This process is no longer alive." : String(e.message) }),
      );
      return;
    }
    if (state.selected !== pid) return;
    const dl = el("dl", { class: "kv" });
    const row = (k, v) => dl.append(el("dt", { text: k }), el("dd", {}, v));
    // Processes of other nodes are shown apart (with their node), not as links: this page sees only its own node.
    const remote = new Set((d.remote || []).map((r) => r.pid));
    const list = (all) => {
      const pids = all.filter((p) => !remote.has(p));
      if (pids.length === 0) return document.createTextNode("–");
      const span = el("span");
      pids.forEach((p, i) => {
        if (i > 0) span.append(" ");
        span.append(pidLink(p));
      });
      return span;
    };
    row("Name", d.name || "–");
    if (d.label) row("Label", d.label);
    for (const [k, v] of Object.entries(d.details || {})) row(k[0].toUpperCase() + k.slice(1), String(v));
    row("Behaviour", d.behaviour);
    row("Status", d.status);
    row("Message queue", fmtNum(d.messageQueueLen));
    row("Messages handled", fmtNum(d.messagesHandled));
    row("Memory", fmtBytes(d.memory));
    row("Trap exit", String(d.trapExit));
    row("Started by", pidLink(d.parent));
    row("Links", list(d.links));
    row("Monitors", list(d.monitors));
    row("Monitored by", list(d.monitoredBy));
    if (d.children) row("Children", list(d.children.map((c) => c.pid).filter(Boolean)));
    for (
      const [kind, title] of [["link", "Remote links"], ["monitor", "Remote monitors"], [
        "monitored by",
        "Remote monitored by",
      ]]
    ) {
      const of = (d.remote || []).filter((r) => r.kind === kind);
      if (of.length === 0) continue;
      const span = el("span", { class: "remote-list", "data-kind": kind });
      of.forEach((r, i) => {
        if (i > 0) span.append(" ");
        span.append(
          el(
            "span",
            { class: "remote-pid", "data-node": r.node },
            r.pid,
            el("span", { class: "on", text: ` on ${r.node}` }),
          ),
        );
      });
      row(title, span);
    }
    const kill = el("button", { type: "button", id: "detail-kill", class: "danger", text: "Kill…" });
    if (state.readOnly) {
      kill.disabled = true;
      kill.title = "The observer is read-only";
    }
    kill.addEventListener("click", () => askKill(pid));
    const parts = [el("h3", { class: "mono", text: d.pid }), dl];
    if (d.messages.length > 0) {
      parts.push(el("div", { class: "label", text: "Queued messages" }));
      parts.push(el("pre", { class: "messages", text: d.messages.join("\n") }));
    }
    parts.push(el("div", { class: "actions" }, kill));
    box.replaceChildren(...parts);
  }

  function select(pid) {
    state.selected = pid;
    closeMenu();
    for (const n of document.querySelectorAll(".selected")) n.classList.remove("selected");
    for (const n of document.querySelectorAll(`[data-pid="${CSS.escape(pid)}"]`)) n.classList.add("selected");
    drawDetail();
  }

  // ------------------------------------------------------------ kill

  function openMenu(e, pid) {
    e.preventDefault();
    const m = $("menu");
    m.dataset.pid = pid;
    $("menu-kill").disabled = state.readOnly;
    m.hidden = false;
    m.style.left = `${Math.min(e.clientX, innerWidth - 170)}px`;
    m.style.top = `${Math.min(e.clientY, innerHeight - 80)}px`;
  }
  function closeMenu() {
    $("menu").hidden = true;
  }

  function askKill(pid) {
    closeMenu();
    if (state.readOnly) return toast("The observer is read-only");
    state.killTarget = pid;
    $("kill-pid").textContent = pid;
    $("kill-dialog").hidden = false;
    $("kill-confirm").focus();
  }

  async function confirmKill() {
    const pid = state.killTarget;
    $("kill-dialog").hidden = true;
    state.killTarget = null;
    if (pid === null) return;
    try {
      await api(`/api/process/${encodeURIComponent(pid)}/kill`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      toast(`Sent kill to ${pid}`);
    } catch (e) {
      toast(`Kill failed: ${e.message}`);
    }
    refresh();
  }

  let toastTimer;
  function toast(msg) {
    const t = $("toast");
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 2500);
  }

  // ------------------------------------------------------------ polling

  async function refresh() {
    if (state.inFlight) return;
    state.inFlight = true;
    try {
      const q = `sort=${encodeURIComponent(state.sort.key)}&desc=${state.sort.desc ? 1 : 0}&limit=1000`;
      const [sys, apps, procs, ets, logs, nodes] = await Promise.all([
        api("/api/system"),
        api("/api/apps"),
        api(`/api/processes?${q}`),
        api("/api/ets"),
        api("/api/logs"),
        api("/api/nodes"),
      ]);
      state.readOnly = sys.readOnly;
      $("readonly-badge").hidden = !sys.readOnly;
      const st = $("status");
      st.textContent = `${fmtNum(sys.now.processes)} processes · updated ${
        new Date(sys.now.time).toLocaleTimeString()
      }`;
      st.classList.remove("down");
      drawCharts(sys);
      drawApps(apps.applications);
      drawProcesses(procs);
      drawEts(ets);
      drawLogs(logs);
      drawNodes(nodes);
      await drawDetail();
      document.body.dataset.updated = String(Date.now());
    } catch (e) {
      const st = $("status");
      st.textContent = `disconnected (${e.message})`;
      st.classList.add("down");
    } finally {
      state.inFlight = false;
    }
  }

  function loop() {
    const next = () => setTimeout(loop, POLL_MS);
    if ($("pause").checked) return next();
    refresh().finally(next);
  }

  // ------------------------------------------------------------ wiring

  buildCharts();
  for (const th of $("procs").tHead.rows[0].cells) {
    const key = th.dataset.key;
    if (!key) continue;
    th.addEventListener("click", () => {
      const numeric = key === "messageQueueLen" || key === "messagesHandled" || key === "memory";
      state.sort = state.sort.key === key ? { key, desc: !state.sort.desc } : { key, desc: numeric };
      refresh();
    });
  }
  $("filter").addEventListener("input", (e) => {
    state.filter = e.target.value;
    drawProcesses({ processes: state.processes, total: state.processes.length });
  });
  $("menu-inspect").addEventListener("click", () => select($("menu").dataset.pid));
  $("menu-kill").addEventListener("click", () => askKill($("menu").dataset.pid));
  $("kill-cancel").addEventListener("click", () => {
    $("kill-dialog").hidden = true;
    state.killTarget = null;
  });
  $("kill-confirm").addEventListener("click", confirmKill);
  document.addEventListener("click", (e) => {
    if (!$("menu").contains(e.target)) closeMenu();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      closeMenu();
      $("kill-dialog").hidden = true;
    }
  });
  loop();
})();
