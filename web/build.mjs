// Builds the page into dist/: one ES module bundle and one stylesheet (hashed names, so
// they can be cached for good), the favicon, Swagger UI for /api/docs under a versioned
// folder, index.html pointing at them, and manifest.json naming them for the server.
// Usage: node build.mjs   (run by scripts/build_web.sh after `npm ci`)
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const assets = path.join(dist, "assets");
const url = (file) => `/assets/${path.relative(assets, file).split(path.sep).join("/")}`;

await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.js" },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  entryNames: "[name]-[hash]",
  outdir: assets,
  metafile: true,
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((file) => path.join(here, file));
const appJs = outputs.find((f) => f.endsWith(".js"));
const appCss = outputs.find((f) => f.endsWith(".css"));

const icon = await readFile(path.join(here, "src/favicon.svg"));
const iconHash = createHash("sha256").update(icon).digest("hex").slice(0, 10);
const favicon = path.join(assets, `favicon-${iconHash}.svg`);
await writeFile(favicon, icon);

const swaggerPackage = path.join(here, "node_modules/swagger-ui-dist");
const { version } = JSON.parse(await readFile(path.join(swaggerPackage, "package.json"), "utf8"));
const swagger = path.join(assets, `swagger-ui-${version}`);
await mkdir(swagger);
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  await copyFile(path.join(swaggerPackage, name), path.join(swagger, name));
}

const manifest = {
  app_js: url(appJs),
  app_css: url(appCss),
  favicon: url(favicon),
  swagger_js: url(path.join(swagger, "swagger-ui-bundle.js")),
  swagger_css: url(path.join(swagger, "swagger-ui.css")),
};
const template = await readFile(path.join(here, "src/index.html"), "utf8");
const page = template
  .replaceAll("%APP_JS%", manifest.app_js)
  .replaceAll("%APP_CSS%", manifest.app_css)
  .replaceAll("%FAVICON%", manifest.favicon);
await writeFile(path.join(dist, "index.html"), page);
await writeFile(path.join(dist, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
const size = (f) =>
  `${(result.metafile.outputs[path.relative(here, f)].bytes / 1024).toFixed(0)} KiB`;
console.log(
  `web/dist: ${path.basename(appJs)} ${size(appJs)}, ${path.basename(appCss)} ${size(appCss)}`,
);
