// The Dataframe input of the web GUI: a grid of cells with typed columns, a row number and a remove
// button per row, and "Add row". Arrow up/down and Enter move between rows; a block copied from a
// spreadsheet (tab-separated lines) pasted into a cell fills the rows and columns from there on, adding
// rows as needed. The cells are sent as typed (a JSON array of rows); the server checks the types and
// names the column and row of a bad cell. An unticked box is sent as "" (false), so a row left
// wholly empty is dropped.
"use strict";

(function () {
  const media = (window.EmsMedia = window.EmsMedia || {});
  const make = (...args) => window.EmsInputs.make(...args);
  const TYPE_HINT = { number: "number", integer: "whole number", text: "text", bool: "yes/no" };

  function cellText(v) {
    if (v === null || v === undefined) return "";
    return typeof v === "string" ? v : String(v);
  }

  media.dataframe = function (field, spec, id, describedBy) {
    const columns = spec.columns || [];
    const max = spec.max_rows ?? Infinity;
    const wrap = make("div", { class: "dataframe-wrap" }, field);
    const table = make("table", { class: "dataframe", id, "aria-describedby": describedBy }, wrap);
    const head = make("tr", {}, make("thead", {}, table));
    make("th", { scope: "col", text: "#" }, head);
    columns.forEach((c) => {
      const th = make("th", { scope: "col" }, head);
      th.appendChild(document.createTextNode(c.name));
      make("span", { class: "column-type", text: ` (${TYPE_HINT[c.type] || c.type})` }, th);
    });
    make("th", { scope: "col" }, head).appendChild(make("span", { class: "visually-hidden", text: "Remove" }));
    const body = make("tbody", {}, table);
    const bar = make("div", { class: "dataframe-bar" }, field);
    const add = make("button", { type: "button", class: "small dataframe-add", text: "Add row" }, bar);
    const count = make("span", { class: "help", "aria-live": "polite" }, bar);
    make("span", { class: "help", text: " · paste a block copied from a spreadsheet into a cell" }, bar);
    let rows = [];

    function cell(r, c) {
      return body.querySelector(`[data-row="${r}"][data-col="${c}"]`);
    }

    function read() {
      rows = [...body.rows].map((tr, r) => columns.map((col, c) => {
        const node = cell(r, c);
        return col.type === "bool" ? (node.checked ? "true" : "") : node.value;
      }));
    }

    function draw(focus) {
      body.replaceChildren();
      rows.forEach((row, r) => {
        const tr = make("tr", {}, body);
        make("th", { scope: "row", text: String(r + 1) }, tr);
        columns.forEach((col, c) => {
          const td = make("td", {}, tr);
          const label = `${col.name}, row ${r + 1}`;
          if (col.type === "bool") {
            const box = make("input", { type: "checkbox", "data-row": r, "data-col": c, "aria-label": label }, td);
            box.checked = ["true", "yes", "1", "on", "x"].includes(cellText(row[c]).trim().toLowerCase());
          } else {
            const numeric = col.type === "number" || col.type === "integer";
            const input = make("input", { type: "text", "data-row": r, "data-col": c, "aria-label": label, inputmode: numeric ? (col.type === "integer" ? "numeric" : "decimal") : null, class: numeric ? "numeric" : null }, td);
            input.value = cellText(row[c]);
          }
        });
        const remove = make("button", { type: "button", class: "small dataframe-remove", "aria-label": `Remove row ${r + 1}`, text: "✕" }, make("td", {}, tr));
        remove.addEventListener("click", () => {
          read();
          rows.splice(r, 1);
          draw([Math.min(r, rows.length - 1), 0]);
          field.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
      count.textContent = `${rows.length} row${rows.length === 1 ? "" : "s"}`;
      add.disabled = rows.length >= max;
      if (focus && focus[0] >= 0) {
        const target = cell(focus[0], focus[1]);
        if (target) target.focus();
      }
    }

    function emptyRow() {
      return columns.map(() => "");
    }

    add.addEventListener("click", () => {
      read();
      if (rows.length >= max) return;
      rows.push(emptyRow());
      draw([rows.length - 1, 0]);
    });

    body.addEventListener("keydown", (ev) => {
      const node = ev.target;
      if (!node.dataset || node.dataset.row === undefined) return;
      const r = Number(node.dataset.row);
      const c = Number(node.dataset.col);
      let to = null;
      if (ev.key === "ArrowUp") to = r - 1;
      else if (ev.key === "ArrowDown" || (ev.key === "Enter" && node.type !== "checkbox")) to = r + 1;
      if (to === null) return;
      ev.preventDefault();
      if (to < 0) return;
      read();
      if (to >= rows.length) {
        if (ev.key !== "Enter" || rows.length >= max) return;
        rows.push(emptyRow());
        draw([to, c]);
      } else {
        cell(to, c).focus();
      }
    });

    body.addEventListener("paste", (ev) => {
      const node = ev.target;
      if (!node.dataset || node.dataset.row === undefined) return;
      const text = (ev.clipboardData || window.clipboardData).getData("text/plain") || "";
      if (!/[\t\n]/.test(text)) return;
      ev.preventDefault();
      read();
      const r0 = Number(node.dataset.row);
      const c0 = Number(node.dataset.col);
      const lines = text.replace(/\r/g, "").replace(/\n+$/, "").split("\n");
      lines.forEach((line, i) => {
        const r = r0 + i;
        if (r >= max) return;
        while (rows.length <= r) rows.push(emptyRow());
        line.split("\t").forEach((value, j) => {
          if (c0 + j < columns.length) rows[r][c0 + j] = value.trim();
        });
      });
      draw([r0, c0]);
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });

    const reset = () => {
      rows = (spec.rows || []).map((r) => columns.map((_, c) => cellText(r[c])));
      while (rows.length < Math.max(1, spec.min_rows || 0)) rows.push(emptyRow());
      draw(null);
    };
    reset();
    return {
      collect: (fd) => { read(); fd.append(spec.name, JSON.stringify(rows)); },
      reset,
    };
  };
})();
