// Seeded fuzz of the bag reader: hundreds of corrupted variants of small bags (byte flips in
// chunks, message indexes, summary, header and footer; zeroed ranges; truncations; duplicated
// chunks), with and without a summary, uncompressed and zstd. For every variant: no crash, no
// hang, every message of an intact chunk exactly once, nothing but original messages, a damaged
// chunk named with its exact byte range and message count, a duplicated chunk skipped and counted.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { openBag, type BagReader } from "../src/transport/mcap/bagReader.js";
import { addOutcome, emptyFigures, readVariant, variants, type FuzzBase, type OpenReader } from "./support/bagFuzz.js";
import { FUZZ_CASES_PER_BASE, FUZZ_SEED, fuzzBases } from "./support/bagFuzzCases.js";
import { tempDir } from "./support/cameraBag.js";

/** Well above any variant's read time (milliseconds here): only a hang gets near it. */
const HANG_MS = 5_000;

describe("bag reader fuzz", () => {
  let dir = "";
  let bases: FuzzBase[] = [];
  beforeAll(async () => {
    dir = await tempDir("depthseg-fuzz-");
    bases = await fuzzBases(dir);
  });

  it(`reads every intact chunk of ${4 * FUZZ_CASES_PER_BASE} corrupted bags exactly once and names what it skipped`, { timeout: 120_000 }, async () => {
    const figures = emptyFigures();
    const kinds = new Set<string>();
    for (const base of bases) {
      for (const [i, variant] of variants(base, FUZZ_CASES_PER_BASE, FUZZ_SEED).entries()) {
        const label = `${base.name} #${i} (${variant.kind})`;
        let bag: BagReader | undefined;
        const open: OpenReader = async (path) => (bag = await openBag(path));
        const outcome = await readVariant(open, base, variant, join(dir, "variant.mcap"));
        addOutcome(figures, variant, outcome);
        kinds.add(variant.kind);

        if (outcome.error !== undefined) {
          // The only documented refusal: a file whose magic is gone (cut or overwritten) along with its header.
          expect(variant.magicTouched, `${label}: ${outcome.error}`).toBe(true);
          expect(outcome.error, label).toMatch(/is not an MCAP file/);
          continue;
        }
        expect(outcome.ms, label).toBeLessThan(HANG_MS);
        const counts = new Map<string, number>();
        for (const key of outcome.keys) counts.set(key, (counts.get(key) ?? 0) + 1);
        expect([...counts].filter(([, n]) => n > 1), `${label}: messages given twice`).toEqual([]);
        expect(outcome.corrupted, `${label}: messages that differ from the original`).toEqual([]);
        expect([...variant.intact].filter((k) => !counts.has(k)), `${label}: intact messages lost`).toEqual([]);

        const reader = bag!;
        for (const d of reader.damage) {
          expect(d.start, label).toBeLessThan(d.end);
          expect(d.end, label).toBeLessThanOrEqual(variant.bytes.byteLength);
        }
        if (variant.damagedChunk) {
          const { number, start, end } = variant.damagedChunk;
          const held = base.chunks[number - 1]!.keys.length;
          expect(reader.damage, label).toContainEqual({ start, end, chunk: number, messages: held, reason: expect.stringMatching(/CRC|zstd/) });
        }
        if (variant.kind === "duplicate-chunk") {
          expect(reader.duplicates, label).toHaveLength(1);
          const copied = base.chunks[reader.duplicates[0]!.sameAs - 1]!;
          expect(reader.duplicates[0]!.messages, label).toBe(copied.keys.length);
          expect(reader.damage, label).toEqual([]);
        }
        // Nothing was lost that the report does not account for: damage, or a file that ends early.
        const lost = base.messages.size - counts.size;
        if (lost > 0) {
          const cutOff = reader.notes.some((n) => /recording cut off/.test(n));
          expect(reader.damage.length > 0 || cutOff, `${label}: ${lost} messages lost, nothing reported`).toBe(true);
        }
      }
    }
    expect(kinds.size).toBe(11);
    expect(figures.cases).toBe(4 * FUZZ_CASES_PER_BASE);
    expect(figures).toMatchObject({ crashes: 0, casesLosingIntact: 0, duplicated: 0, corrupted: 0 });
    expect(figures.intactRecovered).toBe(figures.intactMessages);
    expect(figures.intactMessages).toBeGreaterThan(4000);
  });
});
