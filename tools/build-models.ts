// Writes the bundled default model folder (models/tiny): model.onnx, model.yaml, labels.yaml.
// Deterministic: re-running gives byte-identical files.
// Usage: npx tsx tools/build-models.ts [output-dir]

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tinyBundleFiles } from "./onnx/tinyBundle.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = process.argv[2] ?? join(repoRoot, "models", "tiny");

await mkdir(outDir, { recursive: true });
for (const [name, content] of Object.entries(tinyBundleFiles())) {
  await writeFile(join(outDir, name), content);
}
console.log(`wrote ${Object.keys(tinyBundleFiles()).join(", ")} to ${outDir}`);
