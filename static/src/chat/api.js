// Talking to Spark's REST API: JSON in and out, CSRF for the session, readable errors.
import { _ } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || _("Something went wrong. Please try again."));
    this.status = status;
    this.code = (body && body.code) || "error";
    this.details = body && body.details;
  }
}

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function request(method, path, body, { accept = "application/json", signal } = {}) {
  const headers = { Accept: accept, "X-CSRFToken": csrfToken() };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { code: "network", message: _("You seem to be offline. Check your connection.") });
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  return response;
}

export async function api(method, path, body) {
  const response = await request(method, path, body);
  if (response.status === 204 || response.status === 202) return null;
  return response.json();
}

// Server-sent events from a fetch response: yields {id, event} as they arrive.
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = null;
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) yield { id, event: JSON.parse(data) };
    }
  }
}
