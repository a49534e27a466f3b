// Locations inside the installed package; the same relative layout holds for src/ and dist/.

import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, "models", "tiny");
export const SAMPLE_BAG = join(PACKAGE_ROOT, "samples", "sample.mcap");
