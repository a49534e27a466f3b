// Minimal types for the WebAssembly JS API (Node's global; TypeScript declares it only in the DOM
// lib, which this project does not load): only what depthseg uses.

declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    /** Grows by `delta` 64 KiB pages; detaches the previous `buffer`. Returns the old size in pages. */
    grow(delta: number): number;
  }
  type ExportValue = ((...args: number[]) => unknown) | Memory;
  type Imports = Record<string, Record<string, Memory | ((...args: number[]) => unknown) | number>>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }
}
