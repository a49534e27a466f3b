// Locations inside the installed package; the same relative layout holds for src/ and dist/.

import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The demo model trained on the synthetic indoor world (tools/train); the default for every command. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, "models", "demo");
/** A tiny random-weight network (tools/build-models.ts): for tests and the benchmark, its depth means nothing. */
export const TINY_MODEL_DIR = join(PACKAGE_ROOT, "models", "tiny");
export const SAMPLE_BAG = join(PACKAGE_ROOT, "samples", "sample.mcap");
