// The chat's keyboard shortcuts that reach beyond the composer, and the sheet that lists
// them all ("?"). Enter, Shift+Enter, Esc and ↑ live with the composer (conversation.js).
import { el } from "./dom.js";
import { _ } from "./i18n.js";

const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

// Ctrl on Windows and Linux, ⌘ on a Mac.
export const withModifier = (event) => (IS_MAC ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey);

const typingIn = (target) =>
  Boolean(target && target.closest && target.closest("input, textarea, select, [contenteditable='true']"));

export function shortcutList() {
  const mod = IS_MAC ? "⌘" : "Ctrl";
  return [
    [["Enter"], _("Send the message")],
    [["Shift", "Enter"], _("New line")],
    [["Esc"], _("Stop the answer being written")],
    [["↑"], _("Edit your last message (in an empty composer)")],
    [[mod, "K"], _("Search your messages")],
    [[mod, "Shift", "O"], _("New chat")],
    [["?"], _("Show these shortcuts")],
  ];
}

function openSheet(dialog) {
  const rows = shortcutList().map(([keys, what]) => {
    const combo = el("span", { class: "shortcut-keys" });
    keys.forEach((key, index) => {
      if (index) combo.append(el("span", { class: "shortcut-plus", "aria-hidden": "true", text: "+" }));
      combo.append(el("kbd", { text: key }));
    });
    return el("div", { class: "shortcut-row" }, el("dt", {}, combo), el("dd", { text: what }));
  });
  const close = el("button", { type: "button", class: "secondary", text: _("Close") });
  close.addEventListener("click", () => dialog.close());
  const sheet = el(
    "div",
    { class: "dialog-form shortcuts-sheet", "data-shortcuts": true },
    el("h2", { id: "shortcuts-title", text: _("Keyboard shortcuts") }),
    el("dl", { class: "shortcut-list" }, ...rows),
    el("div", { class: "dialog-actions" }, close),
  );
  dialog.setAttribute("aria-labelledby", "shortcuts-title");
  dialog.addEventListener("close", () => dialog.removeAttribute("aria-labelledby"), { once: true });
  dialog.replaceChildren(sheet);
  dialog.showModal();
  close.focus();
}

function openSearch(shell) {
  const search = shell.querySelector("[data-search]");
  if (!search) return;
  const toggle = shell.querySelector("[data-drawer-toggle]");
  // On a phone the sidebar is a drawer: open it first.
  if (toggle && toggle.offsetParent !== null && !shell.classList.contains("drawer-open")) toggle.click();
  search.focus();
  search.select();
}

export function bindShortcuts(shell) {
  const dialog = document.querySelector("[data-dialog]");
  const newChat = shell.querySelector("a.new-chat");
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.altKey) return;
    const key = event.key.toLowerCase();
    if (withModifier(event) && !event.shiftKey && key === "k") {
      event.preventDefault();
      if (dialog?.open) dialog.close();
      openSearch(shell);
    } else if (withModifier(event) && event.shiftKey && key === "o" && newChat) {
      event.preventDefault();
      location.assign(newChat.href);
    } else if (event.key === "?" && !event.ctrlKey && !event.metaKey && !typingIn(event.target) && dialog && !dialog.open) {
      event.preventDefault();
      openSheet(dialog);
    }
  });
  // The composer's hint says where the list is.
  const hint = shell.querySelector(".composer-hint");
  if (hint && dialog) {
    const button = el("button", { type: "button", class: "link-button", "data-shortcuts-open": true, text: _("Keyboard shortcuts (?)") });
    button.addEventListener("click", () => openSheet(dialog));
    hint.append(" ", button);
  }
}
