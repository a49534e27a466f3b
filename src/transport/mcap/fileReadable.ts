// Random-access IReadable over an open file, so McapIndexedReader reads only the summary and
// the chunks it needs instead of loading the whole bag.

import type { FileHandle } from "node:fs/promises";

import type { McapTypes } from "@mcap/core";

export class FileReadable implements McapTypes.IReadable {
  constructor(
    private readonly file: FileHandle,
    private readonly byteSize: number,
  ) {}

  size(): Promise<bigint> {
    return Promise.resolve(BigInt(this.byteSize));
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    const start = Number(offset);
    const length = Number(size);
    if (start < 0 || length < 0 || start + length > this.byteSize) {
      throw new RangeError(`read of ${length} bytes at ${start} is outside the file (${this.byteSize} bytes)`);
    }
    // A fresh buffer per read: the MCAP reader keeps views into what we return.
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.file.read(buffer, done, length - done, start + done);
      if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + done}`);
      done += bytesRead;
    }
    return buffer;
  }
}
