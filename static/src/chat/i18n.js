// Translated strings: Django's JavaScript catalogue (/jsi18n/) defines gettext globally.
const catalog = typeof window.gettext === "function" ? window.gettext : (text) => text;
const plural = typeof window.ngettext === "function"
  ? window.ngettext
  : (one, many, count) => (count === 1 ? one : many);

export const _ = (text) => catalog(text);
export const n_ = (one, many, count) => plural(one, many, count);

// "%(name)s" placeholders, as Django's interpolate() with named=true.
export const fmt = (text, values) =>
  text.replace(/%\((\w+)\)s/g, (_match, key) => String(values[key] ?? ""));
