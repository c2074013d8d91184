// "Share": the conversation header's button opens a dialog that makes a read-only link to
// a snapshot of the conversation, lists the links that work, copies and revokes them.
import { api } from "./api.js";
import { el } from "./dom.js";
import { _, fmt } from "./i18n.js";

function linkRow(share, onRevoke, onError) {
  const input = el("input", { type: "text", readonly: true, class: "share-url", "aria-label": _("Link"), "data-share-url": true });
  input.value = share.url;
  const copy = el("button", { type: "button", class: "button small secondary", text: _("Copy") });
  copy.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(share.url);
      copy.textContent = _("Copied");
    } catch {
      copy.textContent = _("Select and copy");
    }
  });
  const revoke = el("button", { type: "button", class: "button small danger", text: _("Revoke"), "data-share-revoke": true });
  revoke.addEventListener("click", async () => {
    revoke.disabled = true;
    try {
      await onRevoke(share);
    } catch (error) {
      revoke.disabled = false;
      onError(error.message);
    }
  });
  const when = new Date(share.created_at).toLocaleString();
  const meta = el("p", { class: "muted share-meta", text: fmt(_("%(count)s messages, shared %(when)s"), { count: share.message_count, when }) });
  return el("li", { class: "share-row", "data-share-row": share.id }, el("div", { class: "share-link" }, input, copy, revoke), meta);
}

export function bindShare(root, config) {
  const button = root.querySelector("[data-share-open]");
  const dialog = document.querySelector("[data-dialog]");
  const conversation = config.conversation;
  if (!button || !dialog || !conversation) return;
  const base = `/api/v1/conversations/${conversation.id}/shares/`;

  button.addEventListener("click", async () => {
    const list = el("ul", { class: "share-list", "data-share-list": true });
    const error = el("p", { class: "dialog-error", role: "alert", hidden: true });
    const showError = (message) => {
      error.textContent = message;
      error.hidden = false;
    };
    const empty = el("p", { class: "muted", text: _("No link yet."), "data-share-empty": true });
    const render = (shares) => {
      list.replaceChildren(...shares.map((share) => linkRow(share, revoke, showError)));
      empty.hidden = shares.length > 0;
    };
    let shares = [];
    const revoke = async (share) => {
      await api("DELETE", `${base}${share.id}/`);
      shares = shares.filter((item) => item.id !== share.id);
      render(shares);
    };
    const create = el("button", { type: "button", class: "button", text: _("Create a link"), "data-share-create": true });
    create.addEventListener("click", async () => {
      create.disabled = true;
      error.hidden = true;
      try {
        shares = [await api("POST", base), ...shares];
        render(shares);
        list.querySelector("[data-share-url]")?.select();
      } catch (failure) {
        showError(failure.message);
      } finally {
        create.disabled = false;
      }
    });
    const close = el("button", { type: "button", class: "button secondary", text: _("Close") });
    close.addEventListener("click", () => dialog.close());
    const form = el(
      "div",
      { class: "dialog-form share-dialog", "data-share-dialog": true },
      el("h2", { text: _("Share this conversation") }),
      el("p", { class: "muted", text: _("Anyone with the link can read the conversation as it is now, without signing in. Messages you send later are not shown. Your e-mail and any instructions are never shown.") }),
      create,
      el("h3", { class: "label", text: _("Links that work") }),
      empty,
      list,
      error,
      el("div", { class: "dialog-actions" }, close),
    );
    dialog.replaceChildren(form);
    dialog.showModal();
    try {
      shares = await api("GET", base);
      render(shares);
    } catch (failure) {
      showError(failure.message);
    }
  });
}
