// The fuzzed bags and how many variants of each, shared by the fuzz test and its report script.

import { fileURLToPath } from "node:url";

import { cameraFuzzBase, describeBase, withoutSummary, type FuzzBase } from "./bagFuzz.js";

export const FUZZ_SEED = 20240909;
export const FUZZ_CASES_PER_BASE = 110;

const ZSTD_FIXTURE = fileURLToPath(new URL("../../src/transport/mcap/fixtures/zstd-chunks.mcap", import.meta.url));

/** The uncompressed camera bag with and without its summary, and the zstd fixture. */
export async function fuzzBases(dir: string): Promise<FuzzBase[]> {
  const camera = await cameraFuzzBase(dir);
  const zstd = await describeBase("zstd fixture", ZSTD_FIXTURE);
  return [camera, withoutSummary(camera), zstd, withoutSummary(zstd)];
}
