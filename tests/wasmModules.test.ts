import { describe, expect, it } from "vitest";
import { assemble, committedModule, renderModule, WASM_SOURCES, wat2wasmVersion } from "../tools/wasm/assemble.js";

// The committed modules must be their .wat sources assembled: an edit of a .wat without
// `npx tsx tools/build-wasm.ts` fails here. Needs wabt's wat2wasm (.ci/run installs it).
const version = wat2wasmVersion();

describe("generated WebAssembly modules", () => {
  for (const source of WASM_SOURCES) {
    it.skipIf(version === undefined)(`${source.module} is ${source.wat} as wat2wasm assembles it`, () => {
      expect(committedModule(source)).toBe(renderModule(source, assemble(source)));
    });
  }
});
