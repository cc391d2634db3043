// costcorrect explorer: bind each chart panel's controls to its JSON API and render the answer.
// A page holds one or more panels ([data-panel]); each has its own form (data-api), status,
// notes, chart, download buttons and tables. No external requests: the API is same-origin,
// Vega comes from /static/vendor.
(function () {
  "use strict";
  const panels = document.querySelectorAll("section[data-panel]");
  if (!panels.length) return; // index page
  // State the browser tests read: window.cc is the first panel, window.ccPanels all by name.
  window.ccPanels = {};

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number") {
      if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
      const a = Math.abs(v);
      return a !== 0 && (a < 1e-3 || a >= 1e7) ? v.toExponential(3) : v.toPrecision(5).replace(/\.?0+$/, "");
    }
    return String(v);
  }

  function csvCell(v) {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function saveBlob(name, blob) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function Panel(root, first) {
    const form = root.querySelector("form.controls");
    const api = form.dataset.api;
    const page = root.dataset.page;
    const name = root.dataset.panel;
    const fileBase = name === page ? `costcorrect-${page}` : `costcorrect-${page}-${name}`;
    const chartEl = root.querySelector('[data-role="chart"]');
    const statusEl = root.querySelector('[data-role="status"]');
    const notesEl = root.querySelector('[data-role="notes"]');
    const tablesEl = root.querySelector('[data-role="tables"]');
    const authEl = form.querySelector("[data-auth]");
    const cc = { renders: 0, spec: null, view: null, result: null, lastError: null, name };
    window.ccPanels[name] = cc;
    if (first) window.cc = cc;
    let seq = 0;
    let timer = null;

    function query() {
      const q = new URLSearchParams();
      for (const el of form.querySelectorAll("[data-control]")) {
        if (el.hasAttribute("data-auth")) continue; // a token never goes in a URL
        const v = String(el.value).trim();
        if (v !== "") q.append(el.name, v);
      }
      return q;
    }

    function headers() {
      const h = { Accept: "application/json" };
      if (authEl && authEl.value.trim()) h.Authorization = `Bearer ${authEl.value.trim()}`;
      return h;
    }

    function setStatus(text, isError) {
      statusEl.textContent = text;
      statusEl.classList.toggle("error", !!isError);
    }

    function clearErrors() {
      for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
      for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
    }

    function showError(body) {
      cc.lastError = body;
      const slot = form.querySelector(`[data-error-for="${CSS.escape(body.field || "")}"]`);
      const msg = `${body.field}: ${JSON.stringify(body.value)} is not allowed; allowed: ${body.allowed}`;
      if (slot) {
        slot.textContent = `allowed: ${body.allowed}`;
        const ctl = form.querySelector(`[data-control="${CSS.escape(body.field)}"]`);
        if (ctl) ctl.classList.add("invalid");
        setStatus(`Not updated — ${msg}. The chart shows the last valid input.`, true);
      } else {
        setStatus(`Not updated — ${msg}.`, true);
      }
    }

    function renderTables(tables) {
      tablesEl.replaceChildren();
      for (const t of tables || []) {
        const box = document.createElement("section");
        box.className = "table-box";
        const head = document.createElement("div");
        head.className = "table-head";
        const h = document.createElement("h2");
        h.textContent = t.name;
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "csv";
        btn.textContent = "Download CSV";
        btn.addEventListener("click", () => {
          const lines = [t.columns.map((c) => csvCell(c.label)).join(",")];
          for (const r of t.rows) lines.push(t.columns.map((c) => csvCell(r[c.key])).join(","));
          saveBlob(`${fileBase}-${t.name.replace(/\W+/g, "-")}.csv`,
                   new Blob([lines.join("\n") + "\n"], { type: "text/csv;charset=utf-8" }));
        });
        head.append(h, btn);
        const scroll = document.createElement("div");
        scroll.className = "table-scroll";
        const table = document.createElement("table");
        const tr = document.createElement("tr");
        for (const c of t.columns) {
          const th = document.createElement("th");
          th.textContent = c.label;
          tr.appendChild(th);
        }
        const thead = document.createElement("thead");
        thead.appendChild(tr);
        const tbody = document.createElement("tbody");
        for (const r of t.rows) {
          const row = document.createElement("tr");
          for (const c of t.columns) {
            const td = document.createElement("td");
            td.textContent = fmt(r[c.key]);
            if (typeof r[c.key] === "number") td.className = "num";
            row.appendChild(td);
          }
          tbody.appendChild(row);
        }
        table.append(thead, tbody);
        scroll.appendChild(table);
        box.append(head, scroll);
        tablesEl.appendChild(box);
      }
    }

    async function render(body) {
      const out = await vegaEmbed(chartEl, body.spec, {
        renderer: "svg",
        actions: { export: true, source: false, compiled: false, editor: false },
        downloadFileName: fileBase,
        ast: true, // Vega's expression interpreter: no eval, so the CSP needs no 'unsafe-eval'
      });
      if (cc.view) cc.view.finalize();
      cc.view = out.view;
      cc.spec = body.spec;
      cc.result = body.result;
      cc.renders += 1;
      // Browser timing for the page-load benchmark: ms from navigation start to the first chart.
      if (cc.renders === 1) cc.firstChartMs = performance.now();
      chartEl.dataset.renders = String(cc.renders);
      notesEl.replaceChildren(...(body.notes || []).map((n) => {
        const p = document.createElement("p");
        p.textContent = n;
        return p;
      }));
      renderTables(body.tables);
      for (const btn of root.querySelectorAll("[data-download]")) btn.disabled = false;
      for (const btn of root.querySelectorAll("[data-bundle]")) btn.disabled = !(body.result && body.result.bundle_allowed);
    }

    async function update() {
      if (form.dataset.disabled) {
        setStatus(form.dataset.disabled, true);
        return;
      }
      if (authEl && !authEl.value.trim()) {
        setStatus(form.dataset.needsToken || "Enter a token.", false);
        return;
      }
      const mine = ++seq;
      setStatus("computing…", false);
      let resp, body;
      try {
        resp = await fetch(`${api}?${query().toString()}`, { headers: headers() });
        body = await resp.json();
      } catch (err) {
        if (mine === seq) setStatus(`Server not reachable (${err}). The chart shows the last answer.`, true);
        return;
      }
      if (mine !== seq) return; // a newer request is on its way
      clearErrors();
      if (resp.status === 422) {
        showError(body);
        return;
      }
      if (!resp.ok) {
        const what = resp.status >= 500 && resp.status !== 503 ? `Server error ${resp.status}: ` : "";
        setStatus(`${what}${body.detail || resp.statusText}`, true);
        return;
      }
      cc.lastError = null;
      try {
        await render(body);
        setStatus("", false);
      } catch (err) {
        setStatus(`Chart error: ${err}`, true);
      }
    }

    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(update, delay);
    }

    for (const el of form.querySelectorAll("[data-control]")) {
      const echo = form.querySelector(`[data-echo="${CSS.escape(el.name)}"]`);
      el.addEventListener("input", () => {
        if (echo) echo.textContent = el.value;
        if (el.type === "range") schedule(150);
      });
      el.addEventListener("change", () => schedule(0));
    }
    for (const btn of root.querySelectorAll("[data-download]")) {
      btn.addEventListener("click", async () => {
        if (!cc.view) return;
        const kind = btn.dataset.download;
        const url = await cc.view.toImageURL(kind, kind === "png" ? 2 : 1);
        const a = document.createElement("a");
        a.href = url;
        a.download = `${fileBase}.${kind}`;
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    }
    for (const btn of root.querySelectorAll("[data-bundle]")) {
      // fetched with the token in the header (never in a URL), then saved from a blob
      btn.addEventListener("click", async () => {
        const resp = await fetch(btn.dataset.bundle, { headers: headers() });
        if (!resp.ok) {
          const body = await resp.json().catch(() => ({}));
          setStatus(`Bundle not downloaded — ${body.detail || resp.statusText}`, true);
          return;
        }
        const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
        saveBlob(m ? m[1] : "costcorrect-evidence.zip", await resp.blob());
        setStatus("Evidence bundle downloaded: unzip it and run python3 evidence/verify_bundle.py evidence", false);
      });
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      schedule(0);
    });
    update();
  }

  panels.forEach((root, i) => Panel(root, i === 0));
})();
