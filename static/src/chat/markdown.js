// Markdown for answers: marked (GFM), sanitized by DOMPurify, code highlighted by highlight.js.
import { Marked } from "marked";
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = {
  bash, c, cpp, css, diff, go, java, javascript, json, markdown, php, plaintext, python,
  ruby, rust, sql, typescript, xml, yaml,
};
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
hljs.registerAliases(["sh", "shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["yml"], { languageName: "yaml" });
hljs.registerAliases(["text", "txt"], { languageName: "plaintext" });

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);

const marked = new Marked({ gfm: true, breaks: false });
marked.use({
  renderer: {
    code({ text, lang }) {
      const name = (lang || "").trim().split(/\s+/)[0].toLowerCase();
      let body;
      if (name && hljs.getLanguage(name)) {
        body = hljs.highlight(text, { language: name, ignoreIllegals: true }).value;
      } else {
        body = escapeHtml(text);
      }
      const label = `<span class="code-lang">${escapeHtml(name)}</span>`;
      const languageClass = name ? ` language-${escapeHtml(name)}` : "";
      return `<div class="code-block"><div class="code-head">${label}</div><pre><code class="hljs${languageClass}">${body}</code></pre></div>`;
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe"],
  FORBID_ATTR: ["style"],
};

export function renderMarkdown(text) {
  return DOMPurify.sanitize(marked.parse(text || ""), PURIFY);
}

// An answer cut short (still streaming, stopped, interrupted) can end inside a code block
// or a bold run: close what it left open, so it renders as the finished answer would
// instead of showing raw "**" or "```".
export function closeOpenMarkdown(text) {
  const source = text || "";
  const fences = (source.match(/^ {0,3}(```|~~~)/gm) || []).length;
  if (fences % 2) return `${source}\n\`\`\``;
  const tail = source.slice(source.lastIndexOf("\n\n") + 1);
  const close = (marker, count) => {
    if (count % 2 === 0) return null;
    const trimmed = source.trimEnd();
    // Just opened, nothing after it yet: drop the marker rather than close it on nothing.
    return trimmed.endsWith(marker) ? trimmed.slice(0, -marker.length) : source + marker;
  };
  const ticks = (tail.match(/`/g) || []).length;
  const closedCode = close("`", ticks);
  if (closedCode !== null) return closedCode;
  const plain = tail.replace(/`[^`]*`/g, "");
  for (const marker of ["**", "~~"]) {
    const count = plain.split(marker).length - 1;
    const closed = close(marker, count);
    if (closed !== null) return closed;
  }
  return source;
}

export function renderPartialMarkdown(text) {
  return renderMarkdown(closeOpenMarkdown(text));
}

// Server snippets are escaped text with <mark>: keep exactly that.
export function sanitizeSnippet(html) {
  return DOMPurify.sanitize(html || "", { ALLOWED_TAGS: ["mark"], ALLOWED_ATTR: [] });
}
