// Prints the fuzz figures of a bag reader: `npx tsx tests/support/bagFuzzReport.ts [reader module]`
// (default: src/transport/mcap/bagReader.ts). Run against a copy of an older bagReader.ts for a
// before/after comparison; the module must export openBag.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { FUZZ_CASES_PER_BASE, FUZZ_SEED, fuzzBases } from "./bagFuzzCases.js";
import { addOutcome, emptyFigures, readVariant, variants, type OpenReader } from "./bagFuzz.js";
import { tempDir } from "./cameraBag.js";

const modulePath = resolve(process.argv[2] ?? "src/transport/mcap/bagReader.ts");
const { openBag } = (await import(pathToFileURL(modulePath).href)) as { openBag: OpenReader };
const dir = await tempDir("depthseg-fuzz-");
const total = emptyFigures();
for (const base of await fuzzBases(dir)) {
  const figures = emptyFigures();
  for (const variant of variants(base, FUZZ_CASES_PER_BASE, FUZZ_SEED)) {
    addOutcome(figures, variant, await readVariant(openBag, base, variant, `${dir}/variant.mcap`));
  }
  process.stdout.write(`${base.name}: ${JSON.stringify(figures)}\n`);
  for (const [key, value] of Object.entries(figures) as [keyof typeof figures, number][]) {
    total[key] = key === "slowestMs" ? Math.max(total[key], value) : total[key] + value;
  }
}
process.stdout.write(`all: ${JSON.stringify(total)}\n`);
