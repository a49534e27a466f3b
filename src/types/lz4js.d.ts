// Minimal types for lz4js 0.2 (pure-JS LZ4, no bundled types): only what depthseg uses.

declare module "lz4js" {
  /** Compresses `src` into one LZ4 frame (independent blocks, no checksums). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  /**
   * Decodes the LZ4 block at src[sIndex, sIndex + sLength) into `dst` from `dIndex` on and
   * returns the index after the last byte it produced. Bytes beyond `dst.length` are dropped
   * but still counted.
   */
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
