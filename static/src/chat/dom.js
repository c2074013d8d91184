// Building DOM nodes without innerHTML: attributes and text are set, never parsed.

// el("a", { class: "x", href: url, text: "label" }, child, ...): null/undefined/false
// attributes are left out, true becomes an empty attribute, falsy children are skipped.
export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
};
