// The shared-conversation page: renders each answer's Markdown as the chat does (marked,
// DOMPurify, highlight.js). Without JavaScript the page shows the plain text.
import { renderMarkdown } from "./markdown.js";

function start() {
  for (const node of document.querySelectorAll("[data-shared-message] [data-markdown=true]")) {
    node.innerHTML = renderMarkdown(node.textContent);
    node.dataset.rendered = "true";
  }
  const root = document.querySelector("[data-share]");
  if (root) root.dataset.ready = "true";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
