// A copy button on each rendered code block (added after sanitizing: DOMPurify drops buttons).
import { el } from "./dom.js";
import { _ } from "./i18n.js";

export async function copyText(text) {
  await navigator.clipboard.writeText(text);
}

// Each .code-block under root gets a "Copy" button in its header that copies the code as
// written (the text of its <code>, without the highlighting's markup).
export function addCodeCopyButtons(root, { onError } = {}) {
  for (const block of root.querySelectorAll(".code-block")) {
    if (block.querySelector("[data-copy-code]")) continue;
    const code = block.querySelector("pre code");
    if (!code) continue;
    let head = block.querySelector(".code-head");
    if (!head) {
      head = el("div", { class: "code-head" });
      block.prepend(head);
    }
    const button = el("button", {
      type: "button",
      class: "code-copy",
      "data-copy-code": true,
      "aria-label": _("Copy code"),
      text: _("Copy"),
    });
    button.addEventListener("click", async () => {
      try {
        await copyText(code.textContent);
        button.textContent = _("Copied");
        button.classList.add("is-copied");
        setTimeout(() => {
          button.textContent = _("Copy");
          button.classList.remove("is-copied");
        }, 1500);
      } catch {
        if (onError) onError(_("Copying is not allowed here."));
      }
    });
    head.append(button);
  }
}
