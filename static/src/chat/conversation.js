// The conversation pane: messages (streamed Markdown), actions, the composer, the pickers.
import { api, ApiError } from "./api.js";
import { addCodeCopyButtons, copyText } from "./codeblocks.js";
import { el } from "./dom.js";
import { _, fmt } from "./i18n.js";
import { renderMarkdown, renderPartialMarkdown } from "./markdown.js";
import { Transport } from "./transport.js";

const STATUS_LABELS = {
  interrupted: () => _("Interrupted"),
  cancelled: () => _("Stopped"),
  failed: () => _("Failed"),
  blocked: () => _("Blocked"),
};

const PAGE_MAX = 200; // the messages API's largest limit
// Answers that can be rated (chat.services.RATEABLE_STATUSES; a failed one if it has text).
const RATEABLE = new Set(["complete", "interrupted", "cancelled", "failed"]);

const newClientId = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).slice(0, 64);

function formatCost(value) {
  const amount = Number(value || 0);
  if (!amount) return "$0";
  if (amount < 0.01) return `$${amount.toFixed(6).replace(/0+$/, "")}`;
  return `$${amount.toFixed(4)}`;
}

function icon(name) {
  const paths = {
    copy: "M8 8h11v11H8zM5 16H4V4h12v1",
    edit: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
    redo: "M20 11a8 8 0 1 1-2.3-5.7M20 4v5h-5",
    check: "M5 12l5 5 9-10",
    markdown: "M3 6h18v12H3zM6 15V9l2.5 3L11 9v6M16 9v6M13.5 12.5 16 15l2.5-2.5",
    up: "M7 10v10H4V10zM7 10l4-7c1.5 0 2.5 1 2.5 2.5V9h5a2 2 0 0 1 2 2.3l-1.2 7A2 2 0 0 1 17.3 20H7",
    down: "M17 14V4h3v10zM17 14l-4 7c-1.5 0-2.5-1-2.5-2.5V15h-5a2 2 0 0 1-2-2.3l1.2-7A2 2 0 0 1 6.7 4H17",
  };
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", paths[name]);
  svg.append(path);
  return svg;
}

// Refusals that more money would lift: they carry a link to the top-up page.
const FUNDS_CODES = new Set(["insufficient_funds"]);
// Refusals after the message was recorded (its answer failed before a word): the message
// shows "Not sent" with Resend; sending it again with its client id answers it, no copy.
const NOT_SENT_CODES = new Set([...FUNDS_CODES, "spending_cap_reached", "wallet_frozen", "rate_limited"]);
// Refusals that leave nothing to resend: the message goes back into the composer.
const FINAL_CODES = new Set(["conversation_locked", "duplicate_message"]);

function fundsLink(href) {
  return el("a", { href, class: "funds-link", "data-funds-link": "", text: _("Add funds") });
}

export class ConversationView {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.conversation = config.conversation;
    this.log = root.querySelector("[data-chat-log]");
    this.form = root.querySelector("[data-composer]");
    this.input = root.querySelector("[data-composer-input]");
    this.sendButton = root.querySelector("[data-send]");
    this.stopButton = root.querySelector("[data-stop]");
    this.notice = root.querySelector("[data-chat-notice]");
    this.connection = root.querySelector("[data-connection]");
    this.messages = new Map(); // id -> state
    this.pending = new Map(); // client id -> user message state (not yet accepted)
    this.streaming = null; // the answer being written
    this.frame = null;
    this.dirty = new Set();
    // Earlier messages load a page at a time (the page embeds only the latest page).
    this.pageSize = Math.min(Math.max(Number(config.page_size) || 100, 1), PAGE_MAX);
    this.hasEarlier = false;
    this.earlierBar = null; // holds the "Load earlier messages" button, first in the log
    this.loadingEarlier = null; // the page request in flight
    this.earlierError = null; // the notice a failed page request showed
    this.generation = 0; // bumped when reload() replaces the log: older requests are dropped
  }

  start() {
    this.bindComposer();
    this.bindPickers();
    this.bindTitle();
    this.bindStarters();
    if (this.config.mode !== "conversation") return;
    for (const data of this.config.messages) this.addMessage(data);
    this.setHasEarlier(Boolean(this.config.has_earlier));
    const params = new URLSearchParams(location.search);
    this.transport = new Transport({
      conversationId: this.conversation.id,
      onEvent: (frame) => this.onEvent(frame),
      lastSeq: (id) => (this.messages.get(id) ? this.messages.get(id).seq : 0),
      onState: (state) => this.showConnection(state),
      forceSse: params.get("transport") === "sse" || document.body.dataset.transport === "sse",
    });
    this.transport.start();
    for (const state of this.messages.values()) {
      if (state.data.role === "assistant" && state.status === "streaming") {
        this.streaming = state;
        this.transport.follow(state.id);
      }
    }
    this.updateBusy();
    this.jumpToEnd();
    this.focusHash();
    window.addEventListener("hashchange", () => this.focusHash());
    const pending = sessionStorage.getItem(`spark:pending:${this.conversation.id}`);
    if (pending) {
      sessionStorage.removeItem(`spark:pending:${this.conversation.id}`);
      this.sendText(pending);
    }
    if (this.conversation.is_locked) this.lockComposer();
  }

  // --- rendering ------------------------------------------------------------------------

  addMessage(data, { before = null } = {}) {
    const isUser = data.role === "user";
    const article = el("article", {
      class: `msg ${isUser ? "msg-user" : "msg-assistant"}`,
      id: data.id ? `m-${data.id}` : null,
      "data-message-id": data.id || null,
    });
    const author = isUser ? this.userName() : data.model_label || this.modelName();
    const picture = isUser ? this.userAvatar() : null;
    const letter = () =>
      el("div", { class: "msg-avatar", "aria-hidden": "true", text: (author || "?").slice(0, 1).toUpperCase() });
    const avatar = picture ? el("img", { class: "msg-avatar", src: picture, alt: "", "aria-hidden": "true" }) : letter();
    // A picture that does not load (gone from storage) gives way to the initial.
    if (picture) avatar.addEventListener("error", () => avatar.replaceWith(letter()), { once: true });
    const meta = el("div", { class: "msg-meta" }, el("span", { class: "msg-author", text: author }));
    const status = el("span", { class: "badge msg-status", hidden: true });
    meta.append(status);
    const content = el("div", { class: isUser ? "msg-content plain" : "msg-content markdown" });
    const tools = el("div", { class: "msg-tools", hidden: true });
    const error = el("p", { class: "msg-error", role: "alert", hidden: true });
    const foot = el("div", { class: "msg-foot" });
    const body = el("div", { class: "msg-body" }, meta, tools, content, error, foot);
    article.append(avatar, body);
    const state = {
      id: data.id,
      data,
      unsent: null, // {message, code, topup} when the message was refused
      article,
      content,
      status: data.status,
      statusBadge: status,
      error,
      tools,
      foot,
      text: data.content || "",
      seq: data.last_seq || 0,
    };
    if (before) this.log.insertBefore(article, before);
    else this.log.append(article);
    if (data.id) this.messages.set(data.id, state);
    for (const call of data.tool_calls || []) this.showTool(state, call.name, call.is_error ? "error" : "done");
    this.render(state);
    this.finish(state);
    this.root.querySelector("[data-empty]")?.remove();
    return state;
  }

  userName() {
    const picker = this.root.querySelector("[data-alter-ego]");
    const option = picker && picker.selectedOptions[0];
    return option && option.value ? option.textContent : _("You");
  }

  // The chosen alter ego's picture, if it has one (the picker's option carries it).
  userAvatar() {
    const picker = this.root.querySelector("[data-alter-ego]");
    const option = picker && picker.selectedOptions[0];
    return (option && option.dataset.avatar) || null;
  }

  showAlterEgoAvatar() {
    const image = this.root.querySelector("[data-alter-ego-avatar]");
    if (!image) return;
    const picture = this.userAvatar();
    image.hidden = !picture;
    if (picture) image.src = picture;
    else image.removeAttribute("src");
  }

  modelName() {
    return (this.conversation && this.conversation.model && this.conversation.model.name) || _("Assistant");
  }

  render(state) {
    if (state.data.role === "user") state.content.textContent = state.text;
    else if (state.status === "blocked") state.content.textContent = state.text;
    else if (state.status === "complete") state.content.innerHTML = renderMarkdown(state.text);
    else state.content.innerHTML = renderPartialMarkdown(state.text); // cut short: close what is open
    if (state.data.role === "assistant" && state.status !== "blocked") {
      addCodeCopyButtons(state.content, { onError: (message) => this.showNotice(message) });
    }
    state.article.classList.toggle("is-streaming", state.status === "streaming");
    if (state.status === "streaming" && !state.text) {
      state.content.append(el("span", { class: "typing", "aria-label": _("Writing…") }, el("i"), el("i"), el("i")));
    }
  }

  // Re-render streaming answers at most once per animation frame.
  scheduleRender(state) {
    this.dirty.add(state);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const atEnd = this.nearEnd();
      for (const dirty of this.dirty) this.render(dirty);
      this.dirty.clear();
      if (atEnd) this.scrollToEnd();
    });
  }

  // An answer that is only a refusal (it failed before a word, for lack of funds...): its
  // question shows "Not sent" with Resend instead.
  isRefusal(state) {
    const { data } = state;
    return data.role === "assistant" && state.status === "failed" && !state.text && NOT_SENT_CODES.has(data.error_code);
  }

  questionOf(answer) {
    const byId = answer.data.reply_to && this.messages.get(answer.data.reply_to);
    if (byId) return byId;
    const previous = answer.article.previousElementSibling;
    return previous ? this.messages.get(previous.dataset.messageId) || null : null;
  }

  markUnsent(question, { message, code = "", topup = "" }) {
    question.unsent = { message, code, topup };
    question.status = "unsent";
    question.article.classList.remove("is-pending");
    question.article.classList.add("is-unsent");
    this.finish(question);
  }

  finish(state) {
    const { data } = state;
    if (this.isRefusal(state)) {
      state.article.hidden = true;
      state.foot.replaceChildren();
      const question = this.questionOf(state);
      if (question && !question.unsent && !this.pending.has(question.data.client_id)) {
        this.markUnsent(question, { message: data.error_message, code: data.error_code, topup: data.topup_url });
      }
      return;
    }
    if (state.unsent) {
      this.finishUnsent(state);
      return;
    }
    const label = STATUS_LABELS[state.status];
    state.statusBadge.hidden = !label;
    if (label) {
      state.statusBadge.textContent = label();
      state.statusBadge.className = `badge msg-status status-${state.status}`;
    }
    const message = data.error_message;
    state.error.hidden = !message || state.status === "blocked";
    state.error.textContent = message || "";
    if (message && FUNDS_CODES.has(data.error_code) && this.config.urls.topup) {
      state.error.append(" ", fundsLink(this.config.urls.topup));
    }
    state.foot.replaceChildren();
    if (state.status === "streaming" || state.status === "sending" || !state.id) return;
    const actions = el("div", { class: "msg-actions" });
    actions.append(this.actionButton("copy", _("Copy"), () => this.copy(state)));
    if (data.role === "assistant" && state.status !== "blocked") {
      actions.append(this.actionButton("markdown", _("Copy as Markdown"), () => this.copy(state, "markdown")));
    }
    if (data.role === "user" && !this.conversation?.is_locked) {
      actions.append(this.actionButton("edit", _("Edit and resend"), () => this.startEdit(state)));
    }
    if (data.role === "assistant" && !this.conversation?.is_locked) {
      actions.append(this.actionButton("redo", _("Regenerate"), () => this.regenerate(state)));
    }
    if (data.role === "assistant" && RATEABLE.has(state.status) && state.text) {
      const rating = data.feedback ? data.feedback.rating : null;
      for (const [value, label] of [["up", _("Good answer")], ["down", _("Bad answer")]]) {
        const button = this.actionButton(value, label, () => this.rate(state, value));
        button.setAttribute("aria-pressed", String(rating === value));
        button.dataset.rate = value;
        actions.append(button);
      }
    }
    state.foot.append(actions);
    if (data.role === "assistant" && (data.input_tokens || data.output_tokens)) {
      const usage = fmt(_("%(input)s in · %(output)s out · %(cost)s"), {
        input: Number(data.input_tokens).toLocaleString(),
        output: Number(data.output_tokens).toLocaleString(),
        cost: formatCost(data.cost_usd),
      });
      state.foot.append(el("span", { class: "msg-usage", title: _("Tokens and cost of this answer"), text: usage }));
      const parts = (data.cost_breakdown || []).map((part) => `${part.label} ${formatCost(part.cost_usd)}`);
      if (parts.length) {
        state.foot.append(el("span", { class: "msg-usage msg-cost-parts", title: _("What this answer's cost is made of"), text: parts.join(" · ") }));
      }
    }
  }

  finishUnsent(state) {
    const { message, code, topup } = state.unsent;
    state.error.hidden = !message;
    state.error.textContent = message || "";
    const link = topup || (FUNDS_CODES.has(code) ? this.config.urls.topup : "");
    if (message && link) state.error.append(" ", fundsLink(link));
    const resend = el("button", { type: "button", class: "small resend", "data-resend": true, text: _("Resend") });
    resend.addEventListener("click", () => this.resend(state));
    state.foot.replaceChildren(el("span", { class: "badge msg-status status-unsent", text: _("Not sent") }), resend);
  }

  actionButton(name, label, onClick) {
    const button = el("button", { type: "button", class: "icon-button", title: label, "aria-label": label });
    button.append(icon(name));
    button.addEventListener("click", onClick);
    return button;
  }

  showTool(state, name, phase) {
    state.tools.hidden = false;
    let chip = state.tools.querySelector(`[data-tool="${CSS.escape(name)}"]:last-child`);
    if (!chip || phase === "running") {
      chip = el("span", { class: "tool-chip", "data-tool": name });
      state.tools.append(chip);
    }
    const labels = {
      running: _("Using %(tool)s…"),
      done: _("Used %(tool)s"),
      error: _("%(tool)s failed"),
    };
    chip.className = `tool-chip tool-${phase}`;
    chip.textContent = fmt(labels[phase], { tool: name.replace(/_/g, " ") });
  }

  nearEnd() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 120;
  }

  scrollToEnd(force = false) {
    if (force || this.nearEnd()) this.log.scrollTop = this.log.scrollHeight;
  }

  // At once, not smoothly: opening the page must not scroll past the earlier-messages button.
  jumpToEnd() {
    this.log.scrollTo({ top: this.log.scrollHeight, behavior: "instant" });
  }

  // A search hit links to #m-<id>: load earlier pages until that message is there.
  async focusHash() {
    const match = location.hash.match(/^#m-([\w-]+)$/);
    if (!match) return;
    const id = `m-${match[1]}`;
    let target = document.getElementById(id);
    while (!target && this.hasEarlier && (await this.loadEarlier())) {
      target = document.getElementById(id);
    }
    if (!target || location.hash !== `#${id}`) return;
    for (const found of this.log.querySelectorAll(".is-found")) found.classList.remove("is-found");
    target.classList.add("is-found");
    target.scrollIntoView({ block: "center", behavior: "instant" });
  }

  // --- earlier messages ---------------------------------------------------------------------

  messagesUrl(params) {
    return `/api/v1/conversations/${this.conversation.id}/messages/?${new URLSearchParams(params)}`;
  }

  setHasEarlier(hasEarlier) {
    this.hasEarlier = hasEarlier;
    if (!hasEarlier) {
      this.earlierBar?.remove();
      return;
    }
    if (!this.earlierBar) {
      this.earlierButton = el("button", {
        type: "button",
        class: "small secondary load-earlier",
        "data-load-earlier": true,
        text: _("Load earlier messages"),
      });
      this.earlierButton.addEventListener("click", () => this.loadEarlier());
      this.earlierBar = el("div", { class: "log-earlier" }, this.earlierButton);
      if ("IntersectionObserver" in window) {
        // Scrolling up to the button loads the page before.
        this.earlierObserver = new IntersectionObserver(
          (entries) => {
            if (entries.some((entry) => entry.isIntersecting)) this.loadEarlier();
          },
          { root: this.log, rootMargin: "200px 0px 0px 0px" },
        );
      }
    }
    this.setEarlierBusy(false);
    if (this.log.firstElementChild !== this.earlierBar) this.log.prepend(this.earlierBar);
    // Observed afresh: if the button is still in view after a page came, the next one loads.
    this.earlierObserver?.unobserve(this.earlierButton);
    this.earlierObserver?.observe(this.earlierButton);
  }

  setEarlierBusy(busy) {
    if (!this.earlierButton) return;
    this.earlierButton.disabled = busy;
    this.earlierButton.setAttribute("aria-busy", String(busy));
    this.earlierButton.textContent = busy ? _("Loading earlier messages…") : _("Load earlier messages");
  }

  // Resolves true when a page was added (the caller may ask for the next), false otherwise.
  loadEarlier() {
    if (!this.hasEarlier) return Promise.resolve(false);
    if (!this.loadingEarlier) {
      const loading = this.fetchEarlier().finally(() => {
        if (this.loadingEarlier === loading) this.loadingEarlier = null;
      });
      this.loadingEarlier = loading;
    }
    return this.loadingEarlier;
  }

  async fetchEarlier() {
    const oldest = this.log.querySelector(".msg[data-message-id]");
    if (!oldest) {
      this.setHasEarlier(false);
      return false;
    }
    const generation = this.generation;
    this.setEarlierBusy(true);
    let page;
    try {
      page = await api("GET", this.messagesUrl({ before: oldest.dataset.messageId, limit: this.pageSize }));
    } catch (error) {
      if (generation === this.generation) {
        this.setEarlierBusy(false);
        this.showNotice(error.message);
        this.earlierError = error.message;
      }
      return false;
    }
    if (generation !== this.generation || !oldest.isConnected) return false; // reloaded meanwhile
    if (this.earlierError && this.notice?.textContent === this.earlierError) this.hideNotice();
    this.earlierError = null;
    this.keepScrollPosition(oldest, () => {
      for (const data of page) {
        if (!this.messages.has(data.id)) this.addMessage(data, { before: oldest });
      }
      this.setHasEarlier(page.length >= this.pageSize);
    });
    return true;
  }

  // Content is added above what the reader looks at: keep it where it is on the screen.
  keepScrollPosition(anchor, change) {
    const top = anchor.getBoundingClientRect().top;
    change();
    const shift = anchor.getBoundingClientRect().top - top;
    if (shift) this.log.scrollBy({ top: shift, behavior: "instant" });
  }

  // --- events -----------------------------------------------------------------------

  onEvent(frame) {
    switch (frame.type) {
      case "message.accepted":
        return this.onAccepted(frame);
      case "delta":
        return this.onDelta(frame);
      case "tool.call":
      case "tool.result":
        return this.onTool(frame);
      case "message.done":
      case "message.blocked":
        return this.onDone(frame);
      case "error":
        return this.onError(frame);
      default:
        return undefined;
    }
  }

  onAccepted(frame) {
    if (this.messages.has(frame.assistant_message_id)) return;
    let question = this.pending.get(frame.client_id);
    if (question) {
      this.pending.delete(frame.client_id);
      question.id = frame.user_message_id;
      question.data.id = frame.user_message_id;
      question.article.id = `m-${question.id}`;
      question.article.dataset.messageId = question.id;
      question.status = "complete";
      question.unsent = null;
      question.article.classList.remove("is-pending", "is-unsent");
      this.messages.set(question.id, question);
      this.finish(question);
    } else {
      question = this.messages.get(frame.user_message_id);
    }
    if (!question) {
      this.reload(); // sent from another tab or device
      return;
    }
    // A regeneration answers again: drop what followed the question.
    let next = question.article.nextElementSibling;
    while (next) {
      const after = next.nextElementSibling;
      this.messages.delete(next.dataset.messageId);
      next.remove();
      next = after;
    }
    const answer = this.addMessage({
      id: frame.assistant_message_id,
      role: "assistant",
      status: "streaming",
      content: "",
      last_seq: 0,
      model_label: this.modelName(),
      reply_to: question.id,
    });
    this.streaming = answer;
    this.transport.track(answer.id);
    this.updateBusy();
    this.scrollToEnd(true);
    if (!this.conversation.title) this.refreshTitle();
  }

  // The first message names the conversation: show the name in the header and sidebar.
  async refreshTitle() {
    try {
      const conversation = await api("GET", `/api/v1/conversations/${this.conversation.id}/`);
      if (conversation.title) {
        this.conversation = conversation;
        document.dispatchEvent(new CustomEvent("spark:conversation-renamed", { detail: conversation }));
      }
    } catch {
      // The title shows after the next page load.
    }
  }

  onDelta(frame) {
    const state = this.messages.get(frame.message_id);
    if (!state || frame.seq <= state.seq) return; // seen already (resume, two transports)
    state.seq = frame.seq;
    state.text += frame.text;
    this.scheduleRender(state);
  }

  onTool(frame) {
    const state = this.messages.get(frame.message_id);
    if (!state || frame.seq <= state.seq) return;
    state.seq = frame.seq;
    if (frame.type === "tool.call") this.showTool(state, frame.name, "running");
    else this.showTool(state, frame.name, frame.is_error ? "error" : "done");
  }

  onDone(frame) {
    const state = frame.message_id && this.messages.get(frame.message_id);
    if (!state) {
      if (frame.type === "message.blocked") this.showNotice(frame.reason);
      return;
    }
    if (frame.seq && frame.seq <= state.seq) return;
    state.seq = frame.seq || state.seq;
    if (frame.type === "message.blocked") {
      state.status = "blocked";
      state.text = frame.reason;
      const question = state.article.previousElementSibling;
      if (question?.classList.contains("msg-user")) question.classList.add("is-blocked");
    } else {
      state.status = frame.status;
      state.data.input_tokens = frame.usage.input_tokens;
      state.data.output_tokens = frame.usage.output_tokens;
      state.data.cost_usd = frame.cost_usd;
      state.data.cost_breakdown = frame.cost_breakdown || [];
    }
    state.data.status = state.status;
    this.dirty.delete(state);
    this.render(state);
    this.finish(state);
    this.transport.finished(state.id);
    if (this.streaming === state) this.streaming = null;
    this.updateBusy();
    this.scrollToEnd();
    this.touchSidebar();
  }

  onError(frame) {
    if (frame.code === "conversation_locked") {
      // Closed by the watchdog or staff, maybe while this page was open: say so at once.
      if (frame.client_id && this.pending.has(frame.client_id)) {
        this.refuse(frame.client_id, frame.message);
      }
      this.conversation.is_locked = true;
      this.lockComposer();
      for (const state of this.messages.values()) this.finish(state); // no edit or regenerate
      return;
    }
    if (frame.message_id && this.messages.has(frame.message_id)) {
      const state = this.messages.get(frame.message_id);
      if (frame.code === "resume_expired") {
        this.reload();
        return;
      }
      state.data.error_message = frame.message;
      state.data.error_code = frame.code;
      if (frame.details && frame.details.topup_url) state.data.topup_url = frame.details.topup_url;
      if (NOT_SENT_CODES.has(frame.code) && !state.text) {
        state.status = "failed"; // message.done follows; the question shows "Not sent" now
        this.finish(state);
        return;
      }
      state.error.hidden = false;
      state.error.textContent = frame.message;
      const topup = frame.details && frame.details.topup_url;
      if (topup) state.error.append(" ", fundsLink(topup));
      return;
    }
    if (frame.client_id && this.pending.has(frame.client_id)) {
      this.refuse(frame.client_id, frame.message, frame.details, frame.code);
    }
  }

  // A message the server did not take: it stays, marked "Not sent" with Resend, unless
  // nothing is left to resend (the conversation closed; it was sent already).
  refuse(clientId, message, details = null, code = "") {
    const question = this.pending.get(clientId);
    if (question) this.pending.delete(clientId);
    if (question && !FINAL_CODES.has(code)) {
      this.markUnsent(question, { message, code, topup: details && details.topup_url });
    } else {
      if (question && !question.id) {
        question.article.remove();
        if (!this.input.value.trim()) this.input.value = question.text;
      }
      this.showNotice(message, "error", details && details.topup_url);
      if (question && code === "duplicate_message") this.reload();
    }
    this.updateBusy();
  }

  // Send a "Not sent" message again with its own client id: the server answers the message
  // it recorded (or records it now), never a copy.
  async resend(state) {
    if (this.busy || !state.unsent) return;
    this.hideNotice();
    const clientId = state.data.client_id;
    state.unsent = null;
    state.status = "sending";
    state.article.classList.remove("is-unsent");
    state.article.classList.add("is-pending");
    state.error.hidden = true;
    this.finish(state);
    this.pending.set(clientId, state);
    this.updateBusy();
    try {
      await this.transport.send({ text: state.text, clientId });
    } catch (error) {
      this.refuse(clientId, error.message, error.details, error.code);
    }
  }

  async reload() {
    try {
      const messages = await api("GET", this.messagesUrl({ limit: this.pageSize }));
      this.generation += 1;
      this.log.replaceChildren();
      this.messages.clear();
      for (const data of messages) this.addMessage(data);
      this.setHasEarlier(messages.length >= this.pageSize);
      for (const state of this.messages.values()) {
        if (state.status === "streaming") {
          this.streaming = state;
          this.transport.follow(state.id);
        }
      }
      this.updateBusy();
      this.jumpToEnd();
    } catch (error) {
      this.showNotice(error.message);
    }
  }

  // --- actions ------------------------------------------------------------------------

  bindComposer() {
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (!text.trim() || this.busy) return;
      this.sendText(text);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      } else if (event.key === "ArrowUp" && !this.input.value && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
        const last = this.lastOwnMessage();
        if (last && !this.busy && !this.conversation?.is_locked) {
          event.preventDefault();
          this.startEdit(last);
        }
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    this.stopButton?.addEventListener("click", () => this.stop());
    // Esc stops the answer being written, wherever the focus is, unless it closes something
    // first (a dialog, an edit, a title being renamed, a menu).
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.streaming || event.defaultPrevented) return;
      if (document.querySelector("dialog[open]")) return;
      if (event.target.closest?.(".msg-edit, .title-input, .menu, [data-search]")) return;
      this.stop();
    });
  }

  // The latest message of yours that the server has (↑ edits it).
  lastOwnMessage() {
    const articles = this.log.querySelectorAll(".msg-user[data-message-id]");
    const last = articles[articles.length - 1];
    return last ? this.messages.get(last.dataset.messageId) || null : null;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }

  async sendText(text) {
    this.hideNotice();
    if (this.config.mode !== "conversation") {
      await this.startConversation(text);
      return;
    }
    const clientId = newClientId();
    const state = this.addMessage({ role: "user", content: text, status: "sending", client_id: clientId });
    state.article.classList.add("is-pending");
    this.pending.set(clientId, state);
    this.input.value = "";
    this.autosize();
    this.updateBusy();
    this.scrollToEnd(true);
    try {
      await this.transport.send({ text, clientId });
    } catch (error) {
      this.refuse(clientId, error.message, error.details, error.code);
    }
  }

  async startConversation(text) {
    const body = {};
    const alterEgo = this.root.querySelector("[data-alter-ego]");
    if (alterEgo) body.alter_ego = alterEgo.value || null; // else: the user's default
    if (this.config.prompt) body.prompt = this.config.prompt.key;
    const model = this.root.querySelector("[data-model]")?.value;
    if (model) body.model = model;
    this.sendButton.disabled = true;
    try {
      const conversation = await api("POST", "/api/v1/conversations/", body);
      sessionStorage.setItem(`spark:pending:${conversation.id}`, text);
      location.assign(`/chat/${conversation.id}/`);
    } catch (error) {
      this.sendButton.disabled = false;
      this.showNotice(error.message);
    }
  }

  async stop() {
    if (!this.streaming) return;
    this.stopButton.disabled = true;
    try {
      await this.transport.cancel();
    } catch (error) {
      this.showNotice(error.message);
    }
  }

  async regenerate(state) {
    if (this.busy) return;
    this.hideNotice();
    try {
      await this.transport.regenerate({ messageId: state.id, clientId: newClientId() });
    } catch (error) {
      this.showNotice(error.message);
    }
  }

  startEdit(state) {
    if (this.busy || state.article.querySelector(".msg-edit")) return;
    const area = el("textarea", { class: "msg-edit-input", rows: "3", "aria-label": _("Edit your message") });
    area.value = state.text;
    const save = el("button", { type: "submit", class: "small", text: _("Send") });
    const cancel = el("button", { type: "button", class: "small secondary", text: _("Cancel") });
    const form = el("form", { class: "msg-edit" }, area, el("div", { class: "msg-edit-actions" }, cancel, save));
    state.content.hidden = true;
    state.content.after(form);
    area.focus();
    const close = () => {
      form.remove();
      state.content.hidden = false;
    };
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = area.value;
      if (!text.trim()) return;
      close();
      const clientId = newClientId();
      // The edited message and what follows it are replaced.
      let node = state.article;
      while (node) {
        const next = node.nextElementSibling;
        this.messages.delete(node.dataset.messageId);
        node.remove();
        node = next;
      }
      const replacement = this.addMessage({ role: "user", content: text, status: "sending", client_id: clientId });
      replacement.article.classList.add("is-pending");
      this.pending.set(clientId, replacement);
      this.updateBusy();
      try {
        await this.transport.edit({ text, clientId, editOf: state.id });
      } catch (error) {
        this.pending.delete(clientId);
        this.showNotice(error.message, "error", error.details && error.details.topup_url);
        this.updateBusy();
        this.reload();
      }
    });
  }

  // --- feedback -------------------------------------------------------------------------

  feedbackUrl(state) {
    return `/api/v1/conversations/${this.conversation.id}/messages/${state.id}/feedback/`;
  }

  // Thumbs up or down; the same thumb again takes the rating back. A new rating asks for
  // an optional reason.
  async rate(state, rating) {
    const current = state.data.feedback ? state.data.feedback.rating : null;
    state.reasonForm?.remove();
    try {
      if (current === rating) {
        await api("DELETE", this.feedbackUrl(state));
        state.data.feedback = null;
      } else {
        state.data.feedback = await api("PUT", this.feedbackUrl(state), { rating });
      }
    } catch (error) {
      this.showNotice(error.message);
      return;
    }
    this.finish(state);
    if (state.data.feedback) this.askReason(state);
  }

  askReason(state) {
    const { rating } = state.data.feedback;
    const area = el("textarea", {
      class: "feedback-reason",
      rows: "2",
      maxlength: "1000",
      "aria-label": _("Why? (optional)"),
      placeholder: rating === "up" ? _("What was good about it? (optional)") : _("What was wrong with it? (optional)"),
    });
    const send = el("button", { type: "submit", class: "small", text: _("Send") });
    const skip = el("button", { type: "button", class: "small secondary", text: _("Skip") });
    const form = el(
      "form",
      { class: "feedback-form", "data-feedback-form": true },
      area,
      el("div", { class: "msg-edit-actions" }, skip, send),
    );
    const close = () => {
      form.remove();
      if (state.reasonForm === form) state.reasonForm = null;
    };
    skip.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = area.value.trim();
      if (!reason) {
        close();
        return;
      }
      send.disabled = true;
      try {
        state.data.feedback = await api("PUT", this.feedbackUrl(state), { rating, reason });
        close();
        this.showNotice(_("Thank you for your feedback."), "ok");
      } catch (error) {
        send.disabled = false;
        this.showNotice(error.message);
      }
    });
    state.reasonForm = form;
    state.foot.after(form);
    area.focus();
  }

  // "Copy": the text as the reader sees it (an answer's Markdown rendered, without the code
  // blocks' own labels and buttons); "Copy as Markdown": the answer's Markdown source.
  shownText(state) {
    if (state.data.role === "user" || state.status === "blocked") return state.text;
    state.content.classList.add("is-copying"); // hides what is not text (innerText follows CSS)
    try {
      return state.content.innerText.trim();
    } finally {
      state.content.classList.remove("is-copying");
    }
  }

  async copy(state, as = "text") {
    try {
      await copyText(as === "markdown" ? state.text : this.shownText(state));
      this.showNotice(_("Copied to the clipboard."), "ok");
    } catch {
      this.showNotice(_("Copying is not allowed here."));
    }
  }

  get busy() {
    return Boolean(this.streaming) || this.pending.size > 0;
  }

  updateBusy() {
    if (!this.form) return;
    const streaming = Boolean(this.streaming) || this.pending.size > 0;
    this.form.classList.toggle("is-busy", streaming);
    this.stopButton.hidden = !streaming;
    this.stopButton.disabled = !this.streaming;
    this.sendButton.hidden = streaming;
  }

  lockComposer() {
    this.input.disabled = true;
    this.sendButton.disabled = true;
    this.showNotice(_("This conversation was closed. You can start a new one."));
  }

  showNotice(message, kind = "error", link = null) {
    if (!this.notice) return;
    this.notice.textContent = message;
    if (link) this.notice.append(" ", fundsLink(link));
    this.notice.className = `chat-notice ${kind}`;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    if (kind === "ok") this.noticeTimer = setTimeout(() => this.hideNotice(), 2000);
  }

  hideNotice() {
    if (this.notice) this.notice.hidden = true;
  }

  showConnection(state) {
    if (!this.connection) return;
    const labels = {
      connecting: _("Connecting…"),
      live: "",
      reconnecting: _("Reconnecting…"),
      fallback: "",
      gone: _("This conversation is not available."),
    };
    this.connection.textContent = labels[state] || "";
    this.connection.hidden = !labels[state];
    this.root.dataset.transport = state === "fallback" ? "sse" : this.transport?.mode || "ws";
  }

  touchSidebar() {
    document.dispatchEvent(new CustomEvent("spark:conversation-activity", { detail: { id: this.conversation.id } }));
  }

  // --- header: title, model, alter ego ------------------------------------------------------

  bindTitle() {
    const button = this.root.querySelector("[data-rename]");
    const title = this.root.querySelector("[data-title]");
    if (!button || !title || !this.conversation) return;
    button.addEventListener("click", () => {
      const input = el("input", { type: "text", class: "title-input", maxlength: "200", "aria-label": _("Conversation title") });
      input.value = this.conversation.title;
      title.replaceWith(input);
      button.hidden = true;
      input.focus();
      input.select();
      let done = false;
      const finish = async (save) => {
        if (done) return;
        done = true;
        const value = input.value.trim();
        if (save && value && value !== this.conversation.title) {
          try {
            this.conversation = await api("PATCH", `/api/v1/conversations/${this.conversation.id}/`, { title: value });
            document.dispatchEvent(new CustomEvent("spark:conversation-renamed", { detail: this.conversation }));
          } catch (error) {
            this.showNotice(error.message);
          }
        }
        title.textContent = this.conversation.title || _("New chat");
        input.replaceWith(title);
        button.hidden = false;
      };
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") finish(true);
        if (event.key === "Escape") finish(false);
      });
      input.addEventListener("blur", () => finish(true));
    });
    document.addEventListener("spark:conversation-renamed", (event) => {
      if (event.detail.id === this.conversation.id) {
        this.conversation.title = event.detail.title;
        title.textContent = event.detail.title || _("New chat");
      }
    });
  }

  bindPickers() {
    const model = this.root.querySelector("[data-model]");
    const alterEgo = this.root.querySelector("[data-alter-ego]");
    const picture = this.root.querySelector("[data-alter-ego-avatar]");
    picture?.addEventListener("error", () => {
      picture.hidden = true; // a picture that does not load is left out
    });
    this.showAlterEgoAvatar();
    alterEgo?.addEventListener("change", () => this.showAlterEgoAvatar());
    this.showFunds();
    model?.addEventListener("change", () => this.showFunds());
    if (this.config.mode !== "conversation") return;
    model?.addEventListener("change", () => this.patchConversation({ model: model.value }, model));
    alterEgo?.addEventListener("change", () =>
      this.patchConversation({ alter_ego: alterEgo.value || null }, alterEgo),
    );
  }

  // A model the wallet cannot cover now: say so beside the composer, with the top-up link.
  showFunds() {
    const notice = this.root.querySelector("[data-funds-notice]");
    if (!notice) return;
    const picker = this.root.querySelector("[data-model]");
    const chosen = picker ? picker.selectedOptions[0] : this.root.querySelector("[data-single-model]");
    const short = Boolean(chosen && chosen.dataset.affordable === "false");
    notice.hidden = !short;
    const topup = short ? chosen.dataset.topup || "" : "";
    notice.querySelector("[data-funds-own]").hidden = !topup;
    notice.querySelector("[data-funds-team]").hidden = Boolean(topup);
    if (topup) notice.querySelector("[data-funds-link]").href = topup;
  }

  async patchConversation(body, control) {
    control.disabled = true;
    try {
      this.conversation = await api("PATCH", `/api/v1/conversations/${this.conversation.id}/`, body);
      this.showNotice(_("Saved."), "ok");
    } catch (error) {
      this.showNotice(error instanceof ApiError ? error.message : String(error));
    } finally {
      control.disabled = false;
    }
  }

  bindStarters() {
    for (const button of this.root.querySelectorAll("[data-starter]")) {
      button.addEventListener("click", () => {
        if (!this.busy) this.sendText(button.dataset.starter);
      });
    }
  }
}
