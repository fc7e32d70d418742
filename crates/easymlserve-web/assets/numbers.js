// Numbers as people read them, the same on every machine: "1,234.5" (a comma between thousands, a point
// before the decimals, whatever the browser's locale), the same digits for every cell of a table column,
// and a click (or Enter) copies the full value. The desktop GUI follows the same rules (desktop/src/numbers.rs).
"use strict";

(function () {
  // At most this many decimals when the author gave no precision.
  const MAX_DIGITS = 4;
  // Plain decimal numbers only: "1e3" and "-2.5" are numbers, "0x10", "1,5", "n/a" and "" are text.
  const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

  // The number a table cell holds, or null when it is text.
  function parse(text) {
    if (typeof text === "number") return isFinite(text) ? text : null;
    if (typeof text !== "string" || !NUMERIC.test(text.trim())) return null;
    const n = Number(text);
    return isFinite(n) ? n : null;
  }

  // The fewest decimals (at most `cap`) that show `x` to 12 significant digits: 2.3 -> 1, 2 -> 0,
  // 0.125 -> 3, 0.1 + 0.2 -> 1.
  function digitsNeeded(x, cap = MAX_DIGITS) {
    for (let d = 0; d < cap; d++) if (Math.abs(Number(x.toFixed(d)) - x) <= Math.abs(x) * 1e-12) return d;
    return cap;
  }

  // The decimals one column shows: the author's precision, else the most any of its values needs.
  function columnDigits(values, precision) {
    if (precision !== undefined && precision !== null) return precision;
    return values.reduce((most, x) => Math.max(most, digitsNeeded(x)), 0);
  }

  // `x` with `digits` decimals and thousands separators; huge values in exponent form ("1.50e15").
  function format(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    const abs = Math.abs(x);
    if (abs >= 1e15) return x.toExponential(digits).replace("e+", "e");
    const [whole, fraction] = abs.toFixed(digits).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const sign = x < 0 && Number(abs.toFixed(digits)) !== 0 ? "-" : "";
    return sign + grouped + (fraction ? `.${fraction}` : "");
  }

  // `x` with at most `most` decimals, fewer when it needs fewer (plot axes and tooltips): 2 -> "2".
  function short(x, most) {
    return format(x, isFinite(x) ? digitsNeeded(x, most) : 0);
  }

  // Puts `text` on the clipboard; falls back to a selected textarea where the Clipboard API is missing
  // (a page served over plain HTTP from another machine is not a secure context).
  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (_) { /* try the fallback */ }
    }
    const back = document.activeElement;
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    area.remove();
    if (back && back.focus) back.focus();
    return ok;
  }

  // Copies `full` and says so in `status` (a live region).
  async function copyAndSay(full, status) {
    const ok = await copy(full);
    status.textContent = ok ? `Copied ${full}` : "Could not copy: select the value and press Ctrl+C";
  }

  // A live region that says what was copied.
  function statusFor(parent) {
    const status = document.createElement("span");
    status.className = "copy-status help";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    parent.append(status);
    return status;
  }

  // Makes `element` copy `full` on click, Enter or Space; its label says so to screen readers.
  function copyable(element, full, shown, status) {
    element.classList.add("copyable");
    element.dataset.full = full;
    element.title = `Click to copy ${full}`;
    element.setAttribute("aria-label", `${shown}, press Enter to copy ${full}`);
    element.addEventListener("click", () => copyAndSay(full, status));
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); copyAndSay(full, status); }
    });
  }

  // Arrow keys move between the copyable cells of a table; only one of them is a tab stop.
  function gridKeys(table) {
    const cells = [...table.querySelectorAll("td.copyable")];
    cells.forEach((td, i) => td.setAttribute("tabindex", i === 0 ? "0" : "-1"));
    table.addEventListener("keydown", (event) => {
      const td = event.target.closest && event.target.closest("td.copyable");
      if (!td) return;
      const row = td.parentElement;
      let next = null;
      if (event.key === "ArrowRight") next = cells[cells.indexOf(td) + 1];
      else if (event.key === "ArrowLeft") next = cells[cells.indexOf(td) - 1];
      else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const sibling = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
        const cell = sibling && sibling.children[td.cellIndex];
        if (cell && cell.classList.contains("copyable")) next = cell;
      }
      if (!next) return;
      event.preventDefault();
      td.setAttribute("tabindex", "-1");
      next.setAttribute("tabindex", "0");
      next.focus();
    });
  }

  window.EmsNumbers = { MAX_DIGITS, parse, digitsNeeded, columnDigits, format, short, copy, copyable, statusFor, gridKeys };
})();
