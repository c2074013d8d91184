// The sidebar: folders (nested, coloured, in a custom order), conversations (newest
// activity first outside folders), pinned ones on top, archived ones in their own list,
// drag and drop, and search across your messages.
import { api } from "./api.js";
import { el } from "./dom.js";
import { _, fmt } from "./i18n.js";
import { sanitizeSnippet } from "./markdown.js";

const COLORS = ["", "#e0368a", "#ff8a3d", "#f2b705", "#22a06b", "#1f8fff", "#6d5dfc", "#8a8a9e"];
const OPEN_KEY = "spark:open-folders";

function pinIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon row-pin");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", _("Pinned"));
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M9 4h6l-1 5 3 3v2H7v-2l3-3zM12 14v6");
  svg.append(path);
  return svg;
}

export class Sidebar {
  constructor(root, config) {
    this.root = root;
    this.tree = root.querySelector("[data-tree]");
    this.results = root.querySelector("[data-search-results]");
    this.search = root.querySelector("[data-search]");
    this.dialog = document.querySelector("[data-dialog]");
    this.folders = config.sidebar.folders.map((f) => ({ ...f }));
    this.conversations = config.sidebar.conversations.map((c) => ({ ...c }));
    this.current = config.conversation ? config.conversation.id : null;
    this.currentConversation = config.conversation || null;
    this.open = new Set(JSON.parse(localStorage.getItem(OPEN_KEY) || "[]"));
    const current = this.conversations.find((c) => c.id === this.current);
    for (let folder = current && this.folder(current.folder); folder; folder = this.folder(folder.parent)) {
      this.open.add(folder.id);
    }
  }

  start() {
    this.renderTree();
    this.bindArchive();
    this.root.querySelector("[data-new-folder]")?.addEventListener("click", () => this.createFolder(null));
    this.bindSearch();
    document.addEventListener("spark:conversation-renamed", (event) => {
      const found = this.conversations.find((c) => c.id === event.detail.id);
      if (found) {
        found.title = event.detail.title;
        this.renderTree();
      }
    });
    document.addEventListener("spark:conversation-activity", (event) => {
      const found = this.conversations.find((c) => c.id === event.detail.id);
      if (found) {
        found.last_activity_at = new Date().toISOString();
        this.renderTree();
      }
    });
  }

  folder(id) {
    return id ? this.folders.find((f) => f.id === id) : null;
  }

  childrenOf(parentId) {
    return this.folders
      .filter((f) => (f.parent || null) === parentId)
      .sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  }

  // Pinned ones are listed under "Pinned" only, wherever they are filed.
  conversationsIn(folderId) {
    const list = this.conversations.filter((c) => (c.folder || null) === folderId && !c.pinned && !c.archived);
    if (folderId === null) return list.sort((a, b) => b.last_activity_at.localeCompare(a.last_activity_at));
    return list.sort((a, b) => a.position - b.position || b.last_activity_at.localeCompare(a.last_activity_at));
  }

  saveOpen() {
    localStorage.setItem(OPEN_KEY, JSON.stringify([...this.open]));
  }

  // --- rendering --------------------------------------------------------------------------

  pinnedConversations() {
    return this.conversations
      .filter((c) => c.pinned && !c.archived)
      .sort((a, b) => (b.pinned_at || "").localeCompare(a.pinned_at || ""));
  }

  renderTree() {
    const tree = el("div", { class: "tree" });
    const pinned = this.pinnedConversations();
    if (pinned.length) {
      const list = el("ul", { class: "tree-list pinned-list", "data-pinned": true, "aria-label": _("Pinned") });
      for (const conversation of pinned) list.append(this.conversationItem(conversation));
      tree.append(el("h2", { class: "tree-heading", text: _("Pinned") }), list);
    }
    const folders = this.childrenOf(null);
    if (folders.length) {
      const section = el("ul", { class: "tree-list", role: "group", "aria-label": _("Folders") });
      for (const folder of folders) section.append(this.folderItem(folder, 0));
      tree.append(section);
    }
    const recent = this.conversationsIn(null);
    const head = el("h2", { class: "tree-heading", text: _("Recent") });
    const list = el("ul", { class: "tree-list top-level", "data-drop-folder": "", "aria-label": _("Recent") });
    for (const conversation of recent) list.append(this.conversationItem(conversation));
    if (!recent.length) {
      list.append(el("li", { class: "tree-empty", text: this.conversations.length ? _("Drop here to take out of a folder") : _("No conversations yet") }));
    }
    this.dropTarget(list, null);
    tree.append(head, list);
    this.tree.replaceChildren(tree);
  }

  folderItem(folder, depth) {
    const open = this.open.has(folder.id);
    const item = el("li", { class: "tree-folder", "data-folder-id": folder.id });
    const count = this.conversationsIn(folder.id).length;
    const toggle = el("button", {
      type: "button",
      class: "tree-row folder-row",
      "aria-expanded": open ? "true" : "false",
      draggable: "true",
      style: null,
    });
    toggle.style.setProperty("--depth", depth);
    const dot = el("span", { class: "folder-dot", "aria-hidden": "true" });
    if (folder.color) dot.style.background = folder.color;
    toggle.append(
      el("span", { class: "caret", "aria-hidden": "true" }),
      dot,
      el("span", { class: "row-title", text: folder.name }),
      el("span", { class: "row-count", text: count ? String(count) : "" }),
    );
    toggle.addEventListener("click", () => {
      if (this.open.has(folder.id)) this.open.delete(folder.id);
      else this.open.add(folder.id);
      this.saveOpen();
      this.renderTree();
    });
    toggle.addEventListener("dragstart", (event) => this.dragStart(event, "folder", folder.id));
    const menu = this.menuButton(fmt(_("Actions for folder %(name)s"), { name: folder.name }), [
      [_("New subfolder"), () => this.createFolder(folder.id)],
      [_("Rename or recolour"), () => this.editFolder(folder)],
      [_("Move to…"), () => this.moveFolder(folder)],
      [_("Delete folder"), () => this.deleteFolder(folder)],
    ]);
    item.append(el("div", { class: "row-wrap" }, toggle, menu));
    this.dropTarget(toggle, folder.id);
    if (open) {
      const children = el("ul", { class: "tree-list", role: "group" });
      for (const child of this.childrenOf(folder.id)) children.append(this.folderItem(child, depth + 1));
      for (const conversation of this.conversationsIn(folder.id)) {
        children.append(this.conversationItem(conversation, depth + 1));
      }
      if (children.childElementCount) item.append(children);
    }
    return item;
  }

  conversationItem(conversation, depth = 0) {
    const item = el("li", { class: "tree-conversation", "data-conversation-id": conversation.id });
    const link = el("a", {
      class: `tree-row conversation-row${conversation.id === this.current ? " is-current" : ""}`,
      href: `/chat/${conversation.id}/`,
      draggable: "true",
      "aria-current": conversation.id === this.current ? "page" : null,
    });
    link.style.setProperty("--depth", depth);
    link.append(el("span", { class: "row-title", text: conversation.title || _("New chat") }));
    if (conversation.pinned) {
      link.append(pinIcon());
    }
    link.addEventListener("dragstart", (event) => this.dragStart(event, "conversation", conversation.id));
    const menu = this.menuButton(fmt(_("Actions for %(title)s"), { title: conversation.title || _("New chat") }), [
      [_("Rename"), () => this.renameConversation(conversation)],
      [conversation.pinned ? _("Unpin") : _("Pin"), () => this.pinConversation(conversation, !conversation.pinned)],
      [_("Move to folder…"), () => this.moveConversation(conversation)],
      [_("Archive"), () => this.archiveConversation(conversation)],
      [_("Delete"), () => this.deleteConversation(conversation)],
    ]);
    item.append(el("div", { class: "row-wrap" }, link, menu));
    // Dropping on a conversation puts the dragged one just before it.
    link.addEventListener("dragover", (event) => {
      if (this.dragging && this.dragging.kind === "conversation" && this.dragging.id !== conversation.id) {
        event.preventDefault();
        link.classList.add("drop-before");
      }
    });
    link.addEventListener("dragleave", () => link.classList.remove("drop-before"));
    link.addEventListener("drop", (event) => {
      link.classList.remove("drop-before");
      if (!this.dragging || this.dragging.kind !== "conversation") return;
      event.preventDefault();
      event.stopPropagation();
      this.placeConversation(this.dragging.id, conversation.folder || null, conversation.id);
    });
    return item;
  }

  menuButton(label, actions) {
    const wrap = el("div", { class: "row-menu" });
    const button = el("button", { type: "button", class: "icon-button menu-button", "aria-label": label, "aria-haspopup": "true", "aria-expanded": "false", text: "⋯" });
    const list = el("div", { class: "menu", role: "menu", hidden: true });
    for (const [text, action] of actions) {
      const entry = el("button", { type: "button", role: "menuitem", text });
      entry.addEventListener("click", () => {
        close();
        action();
      });
      list.append(entry);
    }
    const close = () => {
      list.hidden = true;
      button.setAttribute("aria-expanded", "false");
      document.removeEventListener("click", outside, true);
    };
    const outside = (event) => {
      if (!wrap.contains(event.target)) close();
    };
    button.addEventListener("click", () => {
      const opening = list.hidden;
      for (const other of document.querySelectorAll(".menu:not([hidden])")) other.hidden = true;
      list.hidden = !opening;
      button.setAttribute("aria-expanded", String(opening));
      if (opening) {
        document.addEventListener("click", outside, true);
        list.querySelector("button")?.focus();
      }
    });
    list.addEventListener("keydown", (event) => {
      const items = [...list.querySelectorAll("button")];
      const index = items.indexOf(document.activeElement);
      if (event.key === "Escape") {
        close();
        button.focus();
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        items[(index + 1) % items.length].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        items[(index - 1 + items.length) % items.length].focus();
      }
    });
    wrap.append(button, list);
    return wrap;
  }

  // --- drag and drop ---------------------------------------------------------------------

  dragStart(event, kind, id) {
    this.dragging = { kind, id };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", `${kind}:${id}`);
    const stop = () => {
      this.dragging = null;
      for (const node of this.tree.querySelectorAll(".drop-into, .drop-before")) {
        node.classList.remove("drop-into", "drop-before");
      }
      document.removeEventListener("dragend", stop);
    };
    document.addEventListener("dragend", stop);
  }

  dropTarget(node, folderId) {
    node.addEventListener("dragover", (event) => {
      if (!this.dragging) return;
      if (this.dragging.kind === "folder" && !this.canNest(this.dragging.id, folderId)) return;
      event.preventDefault();
      node.classList.add("drop-into");
    });
    node.addEventListener("dragleave", () => node.classList.remove("drop-into"));
    node.addEventListener("drop", (event) => {
      node.classList.remove("drop-into");
      if (!this.dragging) return;
      event.preventDefault();
      event.stopPropagation();
      const { kind, id } = this.dragging;
      if (kind === "conversation") this.placeConversation(id, folderId, null);
      else this.placeFolder(id, folderId);
    });
  }

  canNest(folderId, parentId) {
    for (let parent = this.folder(parentId); parent; parent = this.folder(parent.parent)) {
      if (parent.id === folderId) return false;
    }
    return true;
  }

  // Move a conversation into a folder (null: top level), before another one or at the end.
  async placeConversation(id, folderId, beforeId) {
    const moving = this.conversations.find((c) => c.id === id);
    if (!moving) return;
    const order = this.conversationsIn(folderId).filter((c) => c.id !== id);
    const at = beforeId ? order.findIndex((c) => c.id === beforeId) : -1;
    order.splice(at >= 0 ? at : order.length, 0, moving);
    await this.arrange(folderId, { conversations: order.map((c) => c.id) }, () => {
      order.forEach((c, index) => {
        c.folder = folderId;
        c.position = index;
      });
      if (folderId) this.open.add(folderId);
      this.saveOpen();
    });
  }

  async placeFolder(id, parentId) {
    if (id === parentId || !this.canNest(id, parentId)) return;
    const moving = this.folder(id);
    const order = this.childrenOf(parentId).filter((f) => f.id !== id);
    order.push(moving);
    await this.arrange(parentId, { folders: order.map((f) => f.id) }, () => {
      order.forEach((f, index) => {
        f.parent = parentId;
        f.position = index;
      });
      if (parentId) this.open.add(parentId);
      this.saveOpen();
    });
  }

  async arrange(parentId, lists, apply) {
    try {
      await api("POST", "/api/v1/folders/reorder/", { parent: parentId, ...lists });
      apply();
      this.renderTree();
    } catch (error) {
      this.toast(error.message);
    }
  }

  // --- dialogs -----------------------------------------------------------------------------

  ask({ title, name = null, color = null, select = null, confirm = null, submit }) {
    const dialog = this.dialog;
    const form = el("form", { method: "dialog", class: "dialog-form" });
    form.append(el("h2", { text: title }));
    let nameInput = null;
    let selectInput = null;
    let chosen = color;
    if (name !== null) {
      nameInput = el("input", { type: "text", id: "dialog-name", maxlength: "200", required: true });
      nameInput.value = name;
      form.append(el("label", { for: "dialog-name", text: _("Name") }), nameInput);
    }
    if (color !== null) {
      const swatches = el("div", { class: "swatches", role: "radiogroup", "aria-label": _("Colour") });
      COLORS.forEach((value) => {
        const swatch = el("button", {
          type: "button",
          class: `swatch${value === chosen ? " is-chosen" : ""}`,
          role: "radio",
          "aria-checked": value === chosen ? "true" : "false",
          "aria-label": value || _("No colour"),
        });
        if (value) swatch.style.background = value;
        swatch.addEventListener("click", () => {
          chosen = value;
          for (const other of swatches.children) {
            other.classList.toggle("is-chosen", other === swatch);
            other.setAttribute("aria-checked", other === swatch ? "true" : "false");
          }
        });
        swatches.append(swatch);
      });
      form.append(el("span", { class: "label", text: _("Colour") }), swatches);
    }
    if (select) {
      selectInput = el("select", { id: "dialog-select" });
      for (const [value, label] of select.options) {
        const option = el("option", { value, text: label });
        if (value === select.value) option.selected = true;
        selectInput.append(option);
      }
      form.append(el("label", { for: "dialog-select", text: select.label }), selectInput);
    }
    if (confirm) form.append(el("p", { class: "muted", text: confirm }));
    const error = el("p", { class: "dialog-error", role: "alert", hidden: true });
    const cancel = el("button", { type: "button", class: "secondary", text: _("Cancel") });
    const ok = el("button", { type: "submit", class: confirm ? "danger" : "", text: confirm ? _("Delete") : _("Save") });
    form.append(error, el("div", { class: "dialog-actions" }, cancel, ok));
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      ok.disabled = true;
      try {
        await submit({ name: nameInput && nameInput.value.trim(), color: chosen, value: selectInput && selectInput.value });
        dialog.close();
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      } finally {
        ok.disabled = false;
      }
    });
    dialog.replaceChildren(form);
    dialog.showModal();
    (nameInput || selectInput || ok).focus();
  }

  createFolder(parentId) {
    this.ask({
      title: parentId ? _("New subfolder") : _("New folder"),
      name: "",
      color: "",
      submit: async ({ name, color }) => {
        const folder = await api("POST", "/api/v1/folders/", { name, color, parent: parentId });
        this.folders.push(folder);
        if (parentId) this.open.add(parentId);
        this.open.add(folder.id);
        this.saveOpen();
        this.renderTree();
      },
    });
  }

  editFolder(folder) {
    this.ask({
      title: _("Edit folder"),
      name: folder.name,
      color: folder.color,
      submit: async ({ name, color }) => {
        Object.assign(folder, await api("PATCH", `/api/v1/folders/${folder.id}/`, { name, color }));
        this.renderTree();
      },
    });
  }

  folderOptions(exclude = null) {
    const options = [];
    const walk = (parentId, depth) => {
      for (const folder of this.childrenOf(parentId)) {
        if (folder.id === exclude) continue;
        options.push([folder.id, `${"— ".repeat(depth)}${folder.name}`]);
        walk(folder.id, depth + 1);
      }
    };
    walk(null, 0);
    return options;
  }

  moveFolder(folder) {
    this.ask({
      title: fmt(_("Move %(name)s"), { name: folder.name }),
      select: { label: _("Inside"), value: folder.parent || "", options: [["", _("Top level")], ...this.folderOptions(folder.id)] },
      submit: async ({ value }) => {
        await this.placeFolder(folder.id, value || null);
      },
    });
  }

  deleteFolder(folder) {
    this.ask({
      title: fmt(_("Delete %(name)s?"), { name: folder.name }),
      confirm: _("Its subfolders are deleted too. Conversations in them are kept and move out of the folder."),
      submit: async () => {
        await api("DELETE", `/api/v1/folders/${folder.id}/`);
        const gone = new Set();
        const collect = (id) => {
          gone.add(id);
          for (const child of this.childrenOf(id)) collect(child.id);
        };
        collect(folder.id);
        this.folders = this.folders.filter((f) => !gone.has(f.id));
        for (const c of this.conversations) if (gone.has(c.folder)) c.folder = null;
        this.renderTree();
      },
    });
  }

  renameConversation(conversation) {
    this.ask({
      title: _("Rename conversation"),
      name: conversation.title,
      submit: async ({ name }) => {
        const updated = await api("PATCH", `/api/v1/conversations/${conversation.id}/`, { title: name });
        conversation.title = updated.title;
        document.dispatchEvent(new CustomEvent("spark:conversation-renamed", { detail: updated }));
        this.renderTree();
      },
    });
  }

  moveConversation(conversation) {
    this.ask({
      title: _("Move to folder"),
      select: { label: _("Folder"), value: conversation.folder || "", options: [["", _("No folder")], ...this.folderOptions()] },
      submit: async ({ value }) => {
        await this.placeConversation(conversation.id, value || null, null);
      },
    });
  }

  deleteConversation(conversation) {
    this.ask({
      title: fmt(_("Delete %(title)s?"), { title: conversation.title || _("New chat") }),
      confirm: _("The conversation and its messages are deleted for good."),
      submit: async () => {
        await api("DELETE", `/api/v1/conversations/${conversation.id}/`);
        this.conversations = this.conversations.filter((c) => c.id !== conversation.id);
        if (conversation.id === this.current) location.assign("/chat/");
        else this.renderTree();
      },
    });
  }

  // --- pin and archive ------------------------------------------------------------------------

  async pinConversation(conversation, pinned) {
    try {
      Object.assign(conversation, await api("PATCH", `/api/v1/conversations/${conversation.id}/`, { pinned }));
      this.renderTree();
    } catch (error) {
      this.toast(error.message);
    }
  }

  async archiveConversation(conversation) {
    try {
      const updated = await api("PATCH", `/api/v1/conversations/${conversation.id}/`, { archived: true });
      this.conversations = this.conversations.filter((c) => c.id !== conversation.id);
      if (conversation.id === this.current) this.showArchivedBanner(updated);
      this.renderTree();
    } catch (error) {
      this.toast(error.message);
    }
  }

  async unarchive(id) {
    const updated = await api("PATCH", `/api/v1/conversations/${id}/`, { archived: false });
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.conversations.push(updated);
    if (id === this.current) this.showArchivedBanner(updated);
    this.renderTree();
    return updated;
  }

  bindArchive() {
    const foot = this.root.querySelector(".sidebar-foot");
    if (foot) {
      const button = el("button", { type: "button", class: "link-button archived-open", "data-archived-open": true, text: _("Archived conversations") });
      button.addEventListener("click", () => this.showArchived());
      foot.prepend(button);
    }
    if (this.currentConversation) this.showArchivedBanner(this.currentConversation);
  }

  // The open conversation is archived: say so above its messages, with a way back.
  showArchivedBanner(conversation) {
    const pane = document.querySelector("[data-chat-pane]");
    const log = pane && pane.querySelector("[data-chat-log]");
    if (!log) return;
    let banner = pane.querySelector("[data-archived-banner]");
    if (!conversation.archived) {
      banner?.remove();
      return;
    }
    if (banner) return;
    const restore = el("button", { type: "button", class: "small secondary", "data-unarchive": true, text: _("Unarchive") });
    banner = el("p", { class: "chat-notice warn archived-banner", "data-archived-banner": true, role: "status" },
      el("span", { text: _("This conversation is archived: it is not in your sidebar, and search still finds it.") }), " ", restore);
    restore.addEventListener("click", async () => {
      restore.disabled = true;
      try {
        await this.unarchive(conversation.id);
      } catch (error) {
        restore.disabled = false;
        this.toast(error.message);
      }
    });
    log.before(banner);
  }

  async showArchived() {
    const dialog = this.dialog;
    const list = el("ul", { class: "archived-list", "data-archived-list": true });
    const close = el("button", { type: "button", class: "secondary", text: _("Close") });
    close.addEventListener("click", () => dialog.close());
    const error = el("p", { class: "dialog-error", role: "alert", hidden: true });
    dialog.replaceChildren(
      el("div", { class: "dialog-form" }, el("h2", { text: _("Archived conversations") }), list, error, el("div", { class: "dialog-actions" }, close)),
    );
    dialog.showModal();
    close.focus();
    let rows;
    try {
      rows = (await api("GET", "/api/v1/conversations/?archived=true&page_size=100")).results;
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      return;
    }
    if (!rows.length) list.append(el("li", { class: "tree-empty", text: _("Nothing is archived.") }));
    for (const conversation of rows) {
      const restore = el("button", { type: "button", class: "small secondary", "data-unarchive": true, text: _("Unarchive") });
      const item = el(
        "li",
        { class: "archived-item", "data-conversation-id": conversation.id },
        el("a", { href: `/chat/${conversation.id}/`, text: conversation.title || _("New chat") }),
        restore,
      );
      restore.addEventListener("click", async () => {
        restore.disabled = true;
        try {
          await this.unarchive(conversation.id);
          item.remove();
          if (!list.children.length) list.append(el("li", { class: "tree-empty", text: _("Nothing is archived.") }));
        } catch (failure) {
          restore.disabled = false;
          error.textContent = failure.message;
          error.hidden = false;
        }
      });
      list.append(item);
    }
  }

  toast(message) {
    const notice = document.querySelector("[data-chat-notice]");
    if (notice) {
      notice.textContent = message;
      notice.className = "chat-notice error";
      notice.hidden = false;
    }
  }

  // --- search ------------------------------------------------------------------------------

  bindSearch() {
    if (!this.search) return;
    let timer = null;
    let latest = 0;
    const run = async () => {
      const query = this.search.value.trim();
      if (!query) {
        this.results.hidden = true;
        this.tree.hidden = false;
        return;
      }
      const ticket = ++latest;
      try {
        const body = await api("GET", `/api/v1/search/?${new URLSearchParams({ q: query })}`);
        if (ticket === latest) this.showResults(body.results);
      } catch (error) {
        this.toast(error.message);
      }
    };
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, 220);
    });
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        this.search.value = "";
        run();
      }
    });
    this.search.form?.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      run();
    });
  }

  showResults(results) {
    this.tree.hidden = true;
    this.results.hidden = false;
    const list = el("ul", { class: "search-list" });
    if (!results.length) list.append(el("li", { class: "tree-empty", text: _("No messages match.") }));
    for (const hit of results) {
      const link = el("a", { class: "search-hit", href: `/chat/${hit.conversation_id}/#m-${hit.message_id}` });
      const snippet = el("span", { class: "hit-snippet" });
      snippet.innerHTML = sanitizeSnippet(hit.snippet);
      link.append(
        el("span", { class: "hit-title", text: hit.conversation_title || _("New chat") }),
        snippet,
      );
      list.append(el("li", {}, link));
    }
    this.results.replaceChildren(
      el("h2", { class: "tree-heading", text: fmt(_("%(count)s results"), { count: results.length }) }),
      list,
    );
  }
}
