// Regenerates the WebAssembly modules of src/ from their .wat sources (tools/wasm/assemble.ts).
// Needs wabt's wat2wasm (apt-get install wabt). Deterministic: re-running gives identical files.
// Usage: npx tsx tools/build-wasm.ts

import { writeFileSync } from "node:fs";
import { assemble, modulePath, renderModule, WASM_SOURCES, wat2wasmVersion } from "./wasm/assemble.js";

const version = wat2wasmVersion();
if (version === undefined) {
  console.error("build-wasm: wat2wasm is not on PATH (Debian/Ubuntu: apt-get install wabt)");
  process.exit(1);
}
for (const source of WASM_SOURCES) {
  const wasm = assemble(source);
  writeFileSync(modulePath(source), renderModule(source, wasm));
  console.log(`wrote ${source.module} (${wasm.length} bytes of wasm from ${source.wat}, wat2wasm ${version})`);
}
