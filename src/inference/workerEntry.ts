// Where a worker thread's code lives (the inference worker's, and the MCAP writer's chunk
// compressors in src/transport/mcap/). Compiled JS runs the .js file directly. From the
// TypeScript sources (vitest, tsx) worker.ts must be compiled on the fly, but on Node 20 tsx
// does not register itself in worker threads (`--import tsx` is a no-op there), so the worker
// starts from a small bootstrap that registers tsx's ESM API and then imports worker.ts.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export interface WorkerEntry {
  /** A file URL, or bootstrap source when `eval` is true. */
  readonly script: URL | string;
  readonly eval: boolean;
}

/** `moduleUrl` is the import.meta.url of a module beside `<name>.ts` / `<name>.js`. */
export function workerEntry(moduleUrl: string, name = "worker"): WorkerEntry {
  if (!moduleUrl.endsWith(".ts")) return { script: new URL(`./${name}.js`, moduleUrl), eval: false };
  const worker = new URL(`./${name}.ts`, moduleUrl).href;
  const tsxApi = tsxEsmApiUrl(moduleUrl);
  const script =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); })`;
  return { script, eval: true };
}

/** Resolves tsx's `./esm/api` ESM entry through its package.json exports map. */
function tsxEsmApiUrl(fromUrl: string): string {
  const pkgPath = createRequire(fromUrl).resolve("tsx/package.json");
  const pkg: unknown = JSON.parse(readFileSync(pkgPath, "utf8"));
  const target = pick(pick(pick(pick(pkg, "exports"), "./esm/api"), "import"), "default");
  if (typeof target !== "string") {
    throw new Error(`cannot find tsx's ./esm/api entry in ${pkgPath} (needed to run a worker from its .ts source)`);
  }
  return pathToFileURL(join(dirname(pkgPath), target)).href;
}

function pick(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}
