// Output files. Each record batch the MCAP writer hands us goes straight to disk (a recording never
// has to fit in memory, and a chunk is on disk as soon as it is complete), into a temporary file
// beside the target that is renamed into place once complete: a failed or interrupted run never
// leaves a half-written file under the final name.

import { randomBytes } from "node:crypto";
import { open, realpath, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

import type { IWritable } from "@mcap/core";

import type { PositionalWritable } from "./mcapFileWriter.js";

export class FileWritable implements IWritable, PositionalWritable {
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

  /**
   * One positional writev per call (more only when the kernel writes part of it); no part is
   * copied. `position()` becomes the end of the furthest byte written.
   */
  async writeAt(parts: readonly Uint8Array[], position: bigint): Promise<void> {
    let pending = parts.filter((part) => part.byteLength > 0);
    let at = Number(position);
    while (pending.length > 0) {
      const { bytesWritten } = await this.file.writev(pending, at);
      at += bytesWritten;
      if (BigInt(at) > this.#position) this.#position = BigInt(at);
      let left = bytesWritten;
      let done = 0;
      while (done < pending.length && left >= pending[done]!.byteLength) left -= pending[done++]!.byteLength;
      pending = pending.slice(done);
      if (left > 0) pending[0] = pending[0]!.subarray(left);
    }
  }

  position(): bigint {
    return this.#position;
  }
}

/** A file written under a temporary name in its target's folder, renamed into place by commit(). */
export class PartialFile {
  #done = false;

  private constructor(
    /** Where the file goes: the target of `path` when that is a symbolic link. */
    readonly path: string,
    /** Where it is while being written (a hidden file beside `path`). */
    readonly partialPath: string,
    readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<PartialFile> {
    const target = await linkTarget(path);
    if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new Error(`${path} is a directory`);
    const partialPath = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(3).toString("hex")}.partial`);
    return new PartialFile(target, partialPath, await open(partialPath, "wx"));
  }

  /** Flushes the file to disk, closes it and gives it its final name. */
  async commit(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.partialPath, this.path);
    } catch (error) {
      await this.handle.close().catch(() => undefined);
      await rm(this.partialPath, { force: true });
      throw error;
    }
  }

  /** Closes and deletes the temporary file; the final name is left as it was. */
  async discard(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }
}

/** The file a path names, following symbolic links; the path itself when nothing is there yet. */
async function linkTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Whether `a` and `b` are the same file (device and inode, after following links), so that a
 * symlink or hard link to the input is caught, not only the same path. False when either is absent.
 */
export async function isSameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}
