// The live connection of a conversation: the WebSocket, or server-sent events when a proxy
// blocks WebSocket upgrades. Both resume an answer after the last seq the page rendered.
import { ApiError, readEvents, request } from "./api.js";
import { _ } from "./i18n.js";

const MAX_BACKOFF_MS = 10000;
const WS_ATTEMPTS_BEFORE_SSE = 2;
const READY_TIMEOUT_MS = 15000; // how long a message waits for the socket before "not sent"

const backoff = (attempt) =>
  Math.min(MAX_BACKOFF_MS, 400 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

export class Transport {
  // onEvent(frame): every protocol event; lastSeq(messageId): what the page has rendered;
  // onState(state): "connecting" | "live" | "reconnecting" | "fallback" | "gone".
  constructor({ conversationId, onEvent, lastSeq, onState, forceSse = false }) {
    this.conversationId = conversationId;
    this.onEvent = onEvent;
    this.lastSeq = lastSeq;
    this.onState = onState || (() => {});
    this.mode = forceSse || !("WebSocket" in window) ? "sse" : "ws";
    this.following = new Set(); // answers still streaming that we must see to the end
    this.streams = new Map(); // SSE mode: message id -> AbortController
    this.failures = 0;
    this.everOpened = false;
    this.closed = false;
    this.waiters = new Set(); // messages waiting for the connection (see ready())
    this.base = `/api/v1/conversations/${conversationId}`;
    window.addEventListener("online", () => this.wake());
  }

  start() {
    if (this.mode === "ws") this.connect();
    else this.onState("fallback");
  }

  // --- WebSocket ----------------------------------------------------------------------

  connect() {
    if (this.closed) return;
    this.onState(this.everOpened ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${this.conversationId}/`);
    } catch {
      this.useSse();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.everOpened = true;
      this.failures = 0;
      this.onState("live");
      for (const messageId of this.following) this.resumeOverSocket(messageId);
      this.wakeWaiters(true);
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.onEvent(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket === socket) this.socket = null;
      if (this.closed || this.mode !== "ws") return;
      if (event.code === 4401 || event.code === 4404) {
        this.onState("gone");
        this.wakeWaiters(false);
        return;
      }
      this.failures += 1;
      if (!opened && !this.everOpened && this.failures >= WS_ATTEMPTS_BEFORE_SSE) {
        this.useSse(); // the upgrade never worked here: a proxy blocks it
        return;
      }
      this.timer = setTimeout(() => this.connect(), backoff(this.failures));
    });
  }

  socketOpen() {
    return this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  resumeOverSocket(messageId) {
    this.socket.send(
      JSON.stringify({ type: "stream.resume", message_id: messageId, after_seq: this.lastSeq(messageId) }),
    );
  }

  wake() {
    if (this.mode === "ws" && !this.socket && !this.closed) {
      clearTimeout(this.timer);
      this.connect();
    } else if (this.mode === "sse") {
      for (const messageId of this.following) if (!this.streams.has(messageId)) this.openEvents(messageId);
    }
  }

  useSse() {
    this.mode = "sse";
    clearTimeout(this.timer);
    this.onState("fallback");
    this.wakeWaiters(true);
    for (const messageId of this.following) this.openEvents(messageId);
  }

  // --- what the page asks for -----------------------------------------------------------

  // An answer this connection already receives (accepted here): see it to its end.
  track(messageId) {
    this.following.add(messageId);
  }

  // Resume an answer from the last rendered seq (a streaming answer found on load).
  follow(messageId) {
    if (this.following.has(messageId)) return;
    this.following.add(messageId);
    if (this.mode === "ws") {
      if (this.socketOpen()) this.resumeOverSocket(messageId);
    } else {
      this.openEvents(messageId);
    }
  }

  finished(messageId) {
    this.following.delete(messageId);
    const stream = this.streams.get(messageId);
    if (stream) {
      stream.abort();
      this.streams.delete(messageId);
    }
  }

  // Resolves when a message can go: the socket is open, or the page moved to SSE. A message
  // sent while the socket still connects (the first one of a new chat) waits for it rather
  // than going over REST, which writes nothing when it is refused. Rejects when the
  // connection does not come in time (the page marks the message "not sent").
  ready(timeoutMs = READY_TIMEOUT_MS) {
    if (this.mode !== "ws" || this.socketOpen()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (ok) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (ok) resolve();
        else reject(new ApiError(0, { code: "not_connected", message: _("Not connected. Check your connection and resend.") }));
      };
      const timer = setTimeout(() => waiter(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  wakeWaiters(ok) {
    for (const waiter of [...this.waiters]) waiter(ok);
  }

  async send({ text, clientId }) {
    await this.ready();
    if (this.mode === "ws" && this.socketOpen()) {
      this.socket.send(JSON.stringify({ type: "message.send", client_id: clientId, text }));
      return;
    }
    await this.post(`${this.base}/messages/`, { text, client_id: clientId, stream: true });
  }

  // Edits and regenerations are REST calls (the socket protocol only sends new messages);
  // their events stream back in the response, and over the socket too (the page dedupes).
  async edit({ text, clientId, editOf }) {
    await this.post(`${this.base}/messages/`, { text, client_id: clientId, edit_of: editOf, stream: true });
  }

  async regenerate({ messageId, clientId }) {
    await this.post(`${this.base}/messages/${messageId}/regenerate/`, { client_id: clientId, stream: true });
  }

  async cancel() {
    if (this.mode === "ws" && this.socketOpen()) {
      this.socket.send(JSON.stringify({ type: "generation.cancel" }));
      return;
    }
    await request("POST", `${this.base}/cancel/`);
  }

  // --- SSE ------------------------------------------------------------------------------

  // POST that answers with an event stream; if the stream breaks, resume over /events/.
  async post(path, body) {
    const response = await request("POST", path, body, { accept: "text/event-stream" });
    let answerId = null;
    try {
      for await (const { event } of readEvents(response)) {
        if (event.type === "message.accepted") {
          answerId = event.assistant_message_id;
          this.following.add(answerId);
        }
        this.onEvent(event);
      }
    } catch {
      // The connection broke mid-answer: carry on from the last rendered seq.
    }
    if (answerId && this.following.has(answerId) && (this.mode === "sse" || !this.socketOpen())) {
      this.openEvents(answerId, 1);
    }
  }

  async openEvents(messageId, attempt = 0) {
    if (this.closed || this.streams.has(messageId) || !this.following.has(messageId)) return;
    const controller = new AbortController();
    this.streams.set(messageId, controller);
    const query = new URLSearchParams({ message_id: messageId, after_seq: String(this.lastSeq(messageId)) });
    let retry = true;
    try {
      const response = await request("GET", `${this.base}/events/?${query}`, undefined, {
        accept: "text/event-stream",
        signal: controller.signal,
      });
      if (response.status === 204) retry = false;
      else {
        this.onState("fallback");
        for await (const { event } of readEvents(response)) {
          this.onEvent(event);
          attempt = 0;
        }
      }
    } catch (error) {
      if (error.name === "AbortError" || (error instanceof ApiError && error.status === 404)) retry = false;
    }
    if (this.streams.get(messageId) === controller) this.streams.delete(messageId);
    if (retry && this.following.has(messageId) && !this.closed) {
      this.onState("reconnecting");
      setTimeout(() => this.openEvents(messageId, attempt + 1), backoff(attempt));
    }
  }
}
