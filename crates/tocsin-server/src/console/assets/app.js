// tocsin console: the little JavaScript the pages need. Pages are drawn by the server;
// this sends actions to the JSON API with the session's CSRF token, follows live changes,
// and does bulk actions. Everything is reachable by keyboard.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf"]') || {}).content || "";

  function toast(text, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    const d = document.createElement("div");
    d.textContent = text;
    if (bad) d.className = "bad";
    box.appendChild(d);
    setTimeout(() => d.remove(), bad ? 8000 : 3000);
  }

  // Sends a change to the API; resolves with the parsed answer or rejects with its message.
  async function send(method, url, body) {
    const init = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(url, init);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!r.ok) {
      const msg = data && data.error ? data.error.message : (text || r.statusText);
      throw new Error(msg);
    }
    return data;
  }
  window.tocsin = { send, toast };

  // Turns a form's fields into a JSON object: empty fields are left out, `data-type` on a
  // field says "number", "list" (comma separated), "json", "bool" or "datetime"; a name
  // `a.b` nests and `name[]` makes a list; disabled fields (and fieldsets) are left out.
  function formJson(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.matches(":disabled")) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked && el.dataset.type !== "bool") continue;
      let v = el.type === "checkbox" && el.dataset.type === "bool" ? el.checked : el.value;
      if (typeof v === "string") { v = v.trim(); if (v === "") continue; }
      switch (el.dataset.type) {
        case "number": v = Number(v); break;
        case "list": v = v.split(",").map((s) => s.trim()).filter(Boolean); break;
        case "json": v = JSON.parse(v); break;
        // A datetime-local field (the browser's zone) as an RFC 3339 UTC time.
        case "datetime": v = new Date(v).toISOString(); break;
      }
      // `a.b` nests: {"a": {"b": v}}.
      const path = el.name.split(".");
      let into = out;
      for (const k of path.slice(0, -1)) into = into[k] = into[k] || {};
      const last = path[path.length - 1];
      if (last.endsWith("[]")) {
        const k = last.slice(0, -2);
        (into[k] = into[k] || []).push(v);
      } else into[last] = v;
    }
    return out;
  }

  // <form data-api="/api/..." data-method="POST" data-then="reload|/ui/x/{id}">
  document.addEventListener("submit", async (e) => {
    const form = e.target.closest("form[data-api]");
    if (!form) return;
    e.preventDefault();
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    try {
      let body;
      try { body = form.dataset.body ? JSON.parse(form.dataset.body) : formJson(form); }
      catch (err) { throw new Error("invalid field: " + err.message); }
      if (form.dataset.wrap) body = { [form.dataset.wrap]: body };
      // data-selected="name": the ticked [data-select] boxes' values, as a list (numbers
      // when they are numbers).
      if (form.dataset.selected) {
        body[form.dataset.selected] = selected().map((v) => (/^\d+$/.test(v) ? Number(v) : v));
      }
      const data = await send(form.dataset.method || "POST", form.dataset.api, body);
      toast(form.dataset.done || "OK");
      const then = form.dataset.then || "reload";
      if (then === "reload") location.reload();
      else location.href = then.replace(/\{(\w+)\}/g, (_, k) => (data && data[k] !== undefined ? data[k] : ""));
    } catch (err) {
      toast(err.message, true);
    } finally {
      if (button) button.disabled = false;
    }
  });

  // <button data-post="/api/..." data-body='{"k":1}' data-confirm="Sure?">
  document.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-post],[data-delete]");
    if (!b) return;
    if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
    b.disabled = true;
    try {
      const method = b.dataset.delete ? "DELETE" : "POST";
      const body = b.dataset.body ? JSON.parse(b.dataset.body) : undefined;
      await send(method, b.dataset.post || b.dataset.delete, body);
      location.reload();
    } catch (err) {
      toast(err.message, true);
      b.disabled = false;
    }
  });

  // <input type="checkbox" data-switch="x"> enables the [data-switch-on="x"] fieldsets and
  // disables the [data-switch-off="x"] ones while checked (disabled fields are not sent).
  document.addEventListener("change", (e) => {
    const box = e.target.closest("[data-switch]");
    if (!box) return;
    const name = box.dataset.switch;
    document.querySelectorAll(`[data-switch-on="${name}"]`).forEach((f) => { f.disabled = !box.checked; });
    document.querySelectorAll(`[data-switch-off="${name}"]`).forEach((f) => { f.disabled = box.checked; });
  });

  // Sign out, and the language switch.
  document.addEventListener("click", async (e) => {
    if (!e.target.closest("[data-logout]")) return;
    try { await send("POST", "/ui/logout"); } catch (_) { /* signed out anyway */ }
    location.href = "/ui/login";
  });
  document.addEventListener("change", async (e) => {
    const sel = e.target.closest("[data-prefs]");
    if (!sel) return;
    try {
      await send("POST", "/ui/prefs", { [sel.dataset.prefs]: sel.value });
      location.reload();
    } catch (err) { toast(err.message, true); }
  });

  // Selection and bulk actions on lists with [data-select] boxes.
  function selected() {
    return [...document.querySelectorAll("[data-select]:checked")].map((c) => c.dataset.select);
  }
  function countSelected() {
    const n = document.querySelector("[data-bulk-count]");
    if (n) n.textContent = selected().length;
  }
  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-select]").forEach((c) => { c.checked = e.target.checked; });
    }
    if (e.target.matches("[data-select],[data-select-all]")) countSelected();
  });
  document.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-bulk-action]");
    if (!b) return;
    const ids = selected();
    if (!ids.length) { toast(b.textContent + ": 0", true); return; }
    const action = b.dataset.bulkAction;
    let body;
    if (action === "assign") {
      const who = document.querySelector("[data-bulk-assignee]").value.trim();
      body = { assignee: who || null };
    }
    b.disabled = true;
    const results = await Promise.allSettled(ids.map((id) => send("POST", `/api/v1/incidents/${id}/${action}`, body)));
    b.disabled = false;
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) toast(`${failed.length}/${ids.length}: ${failed[0].reason.message}`, true);
    else toast(`${b.textContent}: ${ids.length}`);
    refresh();
  });

  // Live parts: <div data-live="/ui/...fragment=1"> is fetched again when the server says
  // something changed, keeping what was selected.
  let refreshing = false, again = false;
  async function refresh() {
    const box = document.querySelector("[data-live]");
    if (!box) return;
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const keep = new Set(selected());
      const before = new Set([...box.querySelectorAll("[data-incident]")].map((r) => r.dataset.incident));
      const r = await fetch(box.dataset.live, { credentials: "same-origin" });
      if (r.status === 401 || r.redirected) { location.reload(); return; }
      if (r.ok) {
        box.innerHTML = await r.text();
        box.querySelectorAll("[data-select]").forEach((c) => { c.checked = keep.has(c.dataset.select); });
        box.querySelectorAll("[data-incident]").forEach((row) => {
          if (before.size && !before.has(row.dataset.incident)) row.classList.add("fresh");
        });
        countSelected();
      }
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  }
  if (document.querySelector("[data-live]") && window.EventSource) {
    const status = document.querySelector("[data-live-status]");
    const events = new EventSource("/ui/live");
    events.addEventListener("change", refresh);
    events.onopen = () => status && status.classList.remove("off");
    events.onerror = () => status && status.classList.add("off");
  }
})();

// <input data-set-field="range" data-set-value="custom">: changing the field sets another
// field of its form (a custom date range chooses "custom" in the range menu).
document.addEventListener("change", (e) => {
  const el = e.target.closest && e.target.closest("[data-set-field]");
  if (!el || !el.form) return;
  const other = el.form.elements[el.dataset.setField];
  if (other) other.value = el.dataset.setValue || "";
});
