// Small progressive enhancements shared by every page. No inline scripts (CSP-friendly).
function bindSiteNav() {
  // Phones: the site's links are a drawer. The menu button opens it; a tap outside (the
  // scrim), Esc or the close button shut it, and focus goes back to the menu button.
  const bar = document.querySelector(".topbar");
  const toggle = bar && bar.querySelector("[data-nav-toggle]");
  if (!toggle) return;
  const nav = bar.querySelector("[data-site-nav]");
  const set = (open) => {
    bar.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (open) nav.querySelector("a, button")?.focus();
    else toggle.focus();
  };
  toggle.addEventListener("click", () => set(!bar.classList.contains("nav-open")));
  bar.querySelector("[data-nav-close]")?.addEventListener("click", () => set(false));
  bar.querySelector("[data-nav-scrim]")?.addEventListener("click", () => set(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && bar.classList.contains("nav-open")) set(false);
  });
}

function bindThemeSwitch() {
  // The quick theme switcher: the new theme's stylesheet replaces the old one at once, and the
  // choice is stored by the same POST the form makes without script (the server then renders
  // <html data-theme> itself on every later page, so nothing flashes on load).
  const select = document.querySelector("select[data-theme-select]");
  if (!select) return;
  select.addEventListener("change", async () => {
    const option = select.selectedOptions[0];
    for (const link of document.querySelectorAll("link[data-theme-css]")) link.remove();
    const anchor = document.querySelector("link[href*='css/spark.css']");
    const add = (href, media) => {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      link.dataset.themeCss = "";
      if (media) link.media = media;
      anchor.before(link);
    };
    if (select.value === "auto") {
      add(select.dataset.lightHref, "not all and (prefers-color-scheme: dark)");
      add(select.dataset.darkHref, "(prefers-color-scheme: dark)");
    } else {
      add(option.dataset.href);
    }
    document.documentElement.dataset.theme = select.value;
    try {
      const response = await fetch(select.form.action, {
        method: "POST",
        body: new FormData(select.form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
    } catch {
      select.form.submit();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  bindSiteNav();
  bindThemeSwitch();
  // Selects marked data-autosubmit submit their form on change (language switcher).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Forms marked data-autosubmit-form submit themselves once (email sign-in links).
  const form = document.querySelector("form[data-autosubmit-form]");
  if (form) {
    form.submit();
  }
  // Buttons marked data-copy copy the text of the element they name.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target) return;
      await navigator.clipboard.writeText(target.textContent.trim());
      const label = button.textContent;
      button.textContent = button.dataset.copied || "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
});
