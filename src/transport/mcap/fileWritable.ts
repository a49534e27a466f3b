// Sequential IWritable over an open file: each record batch McapWriter hands us goes straight
// to disk, so a recording never has to fit in memory.

import type { FileHandle } from "node:fs/promises";

import type { IWritable } from "@mcap/core";

export class FileWritable implements IWritable {
  #position = 0n;

  constructor(private readonly file: FileHandle) {}

  async write(buffer: Uint8Array): Promise<void> {
    // McapWriter reuses `buffer` after this resolves, so the whole write must finish first.
    let done = 0;
    while (done < buffer.byteLength) {
      const { bytesWritten } = await this.file.write(buffer, done, buffer.byteLength - done);
      done += bytesWritten;
    }
    this.#position += BigInt(buffer.byteLength);
  }

  position(): bigint {
    return this.#position;
  }
}
