// Light or dark: the system's preference until the visitor presses the header's "Dark theme" toggle,
// whose choice this browser remembers (localStorage). The colours are style.css's; this file only sets
// data-theme on <html>, so plots, tables and images restyle without being drawn again.
"use strict";

(function () {
  const KEY = "easymlserve-theme";
  const query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const root = document.documentElement;

  function stored() {
    try { return localStorage.getItem(KEY); } catch (_) { return null; }
  }

  function apply() {
    const chosen = stored();
    const theme = chosen === "dark" || chosen === "light" ? chosen : query && query.matches ? "dark" : "light";
    root.dataset.theme = theme;
    const button = document.getElementById("theme-toggle");
    if (button) button.setAttribute("aria-pressed", String(theme === "dark"));
  }

  apply();
  if (query && query.addEventListener) query.addEventListener("change", apply);
  const button = document.getElementById("theme-toggle");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const next = root.dataset.theme === "dark" ? "light" : "dark";
      try { localStorage.setItem(KEY, next); } catch (_) { /* a private window: this page only */ }
      root.dataset.theme = next;
      button.setAttribute("aria-pressed", String(next === "dark"));
    });
  }
  window.EmsTheme = { apply, KEY };
})();
