// The chat app: reads the page's JSON (json_script) and starts the sidebar and the conversation.
import { ConversationView } from "./conversation.js";
import { bindShare } from "./share.js";
import { bindShortcuts } from "./shortcuts.js";
import { Sidebar } from "./sidebar.js";

function readConfig() {
  const node = document.getElementById("chat-config");
  return node ? JSON.parse(node.textContent) : null;
}

function bindDrawer(shell) {
  const toggles = shell.querySelectorAll("[data-drawer-toggle]");
  const scrim = shell.querySelector("[data-scrim]");
  const sidebar = shell.querySelector("[data-sidebar]");
  const set = (open) => {
    shell.classList.toggle("drawer-open", open);
    for (const toggle of toggles) toggle.setAttribute("aria-expanded", String(open));
    if (open) sidebar.querySelector("a, button, input")?.focus();
  };
  for (const toggle of toggles) {
    toggle.addEventListener("click", () => set(!shell.classList.contains("drawer-open")));
  }
  scrim?.addEventListener("click", () => set(false));
  shell.querySelector("[data-drawer-close]")?.addEventListener("click", () => set(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && shell.classList.contains("drawer-open")) set(false);
  });
}

function start() {
  const shell = document.querySelector("[data-chat-app]");
  const config = readConfig();
  if (!shell || !config) return;
  bindDrawer(shell);
  new Sidebar(shell.querySelector("[data-sidebar]"), config).start();
  const view = new ConversationView(shell.querySelector("[data-chat-pane]"), config);
  view.start();
  bindShare(shell.querySelector("[data-chat-pane]"), config);
  bindShortcuts(shell);
  window.sparkChat = view; // for debugging in the console
  shell.dataset.ready = "true";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
