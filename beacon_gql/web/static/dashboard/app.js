// The dashboard's entry point: picks the page from the URL, and runs the token panel.

import { getToken, setToken } from "./api.js";
import { renderJobList } from "./jobs.js";
import { renderJobPage } from "./job.js";

const app = document.getElementById("app");
let current = null; // the page's cleanup function

function route() {
  if (current) current();
  current = null;
  const path = window.location.pathname.replace(/\/+$/, "") || "/";
  const match = path.match(/^\/jobs\/([^/]+)$/);
  document.querySelectorAll("[data-nav]").forEach((link) => link.removeAttribute("aria-current"));
  if (match) {
    current = renderJobPage(app, decodeURIComponent(match[1]));
  } else {
    document.querySelector('[data-nav="jobs"]')?.setAttribute("aria-current", "page");
    current = renderJobList(app);
  }
}

function setupTokenPanel() {
  const toggle = document.querySelector('[data-testid="token-toggle"]');
  const panel = document.getElementById("token-panel");
  const form = panel.querySelector("form");
  const input = document.getElementById("token-input");
  const clearButton = panel.querySelector('[data-testid="token-clear"]');

  const refreshLabel = () => {
    const has = Boolean(getToken());
    toggle.textContent = has ? "Token ✓" : "Token";
    toggle.title = has ? "A read token is stored in this browser" : "Set a read token";
  };
  const open = (show) => {
    panel.hidden = !show;
    toggle.setAttribute("aria-expanded", String(show));
    if (show) {
      input.value = getToken() || "";
      input.focus();
    }
  };
  toggle.addEventListener("click", () => open(panel.hidden));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(input.value.trim() || null);
    open(false);
  });
  clearButton.addEventListener("click", () => {
    setToken(null);
    input.value = "";
    open(false);
  });
  window.addEventListener("beacon:token-needed", () => open(true));
  window.addEventListener("beacon:token-changed", () => {
    refreshLabel();
    route(); // start the page again with the new token
  });
  refreshLabel();
}

setupTokenPanel();
route();
