// Bundles Spark's browser code (static/src) into static/build with esbuild.
// `npm run build` (make assets). No CDN: every library comes from package-lock.json.
import { build } from "esbuild";

const watch = process.argv.includes("--watch");

const options = {
  entryPoints: {
    chat: "static/src/chat/main.js",
    "chat-style": "static/src/chat/chat.css",
  },
  outdir: "static/build",
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "info",
};

if (watch) {
  const { context } = await import("esbuild");
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
