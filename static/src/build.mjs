// Bundles Spark's browser code (static/src) into static/build with esbuild.
// `npm run build` (make assets). No CDN: every library comes from package-lock.json.
import { build, context } from "esbuild";

const watch = process.argv.includes("--watch");

const shared = {
  outdir: "static/build",
  bundle: true,
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "info",
};

const bundles = [
  // The chat app: ES modules.
  {
    ...shared,
    entryPoints: {
      chat: "static/src/chat/main.js",
      "chat-style": "static/src/chat/chat.css",
      // The read-only shared-conversation page.
      share: "static/src/chat/share-page.js",
    },
    format: "esm",
    target: ["es2020"],
  },
  // Billing dashboards' charts: one classic script loaded with defer.
  {
    ...shared,
    entryPoints: { billing: "static/src/billing/charts.js" },
    format: "iife",
    target: ["es2019"],
  },
];

if (watch) {
  for (const options of bundles) {
    const ctx = await context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(bundles.map((options) => build(options)));
}
