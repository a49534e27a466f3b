// `depthseg replay` on damaged bags and with dangerous --out paths, end to end through the CLI:
// a damaged chunk costs only its own frames, damaged redundant parts (message index, summary)
// cost nothing, duplicated chunks are read once, and the output is never the input nor left
// half-written under its final name.

import { link, mkdir, readdir, readFile, symlink, writeFile, lstat } from "node:fs/promises";
import { join } from "node:path";

import { Opcode } from "@mcap/core";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { main } from "../src/cli.js";
import { resolveParameters } from "../src/config/parameters.js";
import { FatalError } from "../src/errors.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { replay } from "../src/replay/replay.js";
import { openBag } from "../src/transport/mcap/bagReader.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { cameraFuzzBase, messageKey, readVariant, variants, type FuzzBase } from "./support/bagFuzz.js";
import { FUZZ_SEED } from "./support/bagFuzzCases.js";
import { IMAGE_TOPIC, INFO_TOPIC, readOutputBag, stampAt, tempDir, typed } from "./support/cameraBag.js";
import { stampToNanoseconds } from "../src/frame.js";

const FRAMES = 12;
const flip = (bytes: Uint8Array, at: number, mask: number) => (bytes[at] = bytes[at]! ^ mask);
const imageKey = (i: number) => messageKey(IMAGE_TOPIC, stampToNanoseconds(stampAt(i)));
const infoKey = (i: number) => messageKey(INFO_TOPIC, stampToNanoseconds(stampAt(i)));

describe("replay of damaged bags", () => {
  let dir = "";
  let bundle = "";
  let base: FuzzBase;
  let stdout = "";
  let stderr = "";
  beforeAll(async () => {
    dir = await tempDir("depthseg-damaged-");
    bundle = await writeAnalyticBundle(join(dir, "bundle"), { size: [6, 8] });
    base = await cameraFuzzBase(dir);
  });
  afterEach(() => vi.restoreAllMocks());

  /** `depthseg replay` through main(); resolves to the exit code and the stamps (frame numbers) written. */
  const cli = async (input: Uint8Array, name: string): Promise<{ code: number; frames: number[] }> => {
    const path = join(dir, `${name}.mcap`);
    const out = join(dir, `${name}.out.mcap`);
    await writeFile(path, input);
    stdout = "";
    stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const code = await main(["replay", path, "--out", out, "--model", bundle, "--quiet", "--summary"]);
    vi.restoreAllMocks();
    if (code !== 0) return { code, frames: [] };
    const depth = typed(await readOutputBag(out), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    const frameOf = (stamp: { sec: number; nanosec: number }) =>
      Array.from({ length: FRAMES }, (_, i) => i).find((i) => stamp.sec === stampAt(i).sec && stamp.nanosec === stampAt(i).nanosec)!;
    const frames = depth.map((d) => frameOf(d.header.stamp));
    return { code, frames };
  };
  const chunkFrames = (chunk: number) => Array.from({ length: FRAMES }, (_, i) => i).filter((i) => base.chunks[chunk - 1]!.keys.includes(imageKey(i)));

  it("a flipped byte in chunk 2 of 5 costs chunk 2's frames only, and the summary names its exact bytes", async () => {
    expect(base.chunks).toHaveLength(5);
    const chunk2 = base.chunks[1]!;
    const bytes = base.bytes.slice();
    flip(bytes, Math.floor((chunk2.start + chunk2.end) / 2), 0x20);
    const { code, frames } = await cli(bytes, "chunk2");
    expect(code).toBe(0);
    const lost = chunkFrames(2);
    expect(lost).toEqual([1, 2, 3]);
    expect(frames).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(stdout).toContain(`frames     read 9, processed 9`);
    expect(stdout).toContain(`input damage  bytes ${chunk2.start}-${chunk2.end} (chunk 2, ${chunk2.keys.length} messages): chunk CRC mismatch`);
  });

  it("the same without a summary (a recording cut off after its last chunk): walked, same result", async () => {
    const chunk2 = base.chunks[1]!;
    const bytes = base.bytes.slice(0, base.dataEnd);
    flip(bytes, chunk2.start + 3, 0x40); // the chunk's record length: its end must be found another way
    flip(bytes, Math.floor((chunk2.start + chunk2.end) / 2), 0x20);
    const { code, frames } = await cli(bytes, "chunk2-walked");
    expect(code).toBe(0);
    expect(frames).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(stdout).toMatch(new RegExp(`input damage  bytes ${chunk2.start}-${base.chunks[2]!.start} \\(chunk 2\\): chunk CRC mismatch`));
  });

  it("a damaged message index (no CRC) costs nothing: all 12 frames", async () => {
    // The first entry of chunk 1's first message index: its offset into the chunk.
    const bytes = base.bytes.slice();
    const index = base.chunks[0]!.end;
    expect(bytes[index]).toBe(Opcode.MESSAGE_INDEX);
    flip(bytes, index + 9 + 2 + 4 + 8, 0x7f);
    const { code, frames } = await cli(bytes, "message-index");
    expect(code).toBe(0);
    expect(frames).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(stdout).not.toContain("input damage");
  });

  it("a flipped byte in the summary's Schema record costs nothing: the Schema in the chunk passes its CRC", async () => {
    const bytes = base.bytes.slice();
    const name = Buffer.from(bytes.buffer).indexOf("sensor_msgs/msg/Image", base.dataEnd);
    expect(name).toBeGreaterThan(base.dataEnd);
    flip(bytes, name + 12, 0x01); // "sensor_msgs/msg/Image" -> "sensor_msgs/mrg/Image"
    const { code, frames } = await cli(bytes, "summary-schema");
    expect(code).toBe(0);
    expect(frames).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(stdout).toMatch(/input note  the summary section \(bytes \d+-\d+\) fails its CRC/);
    expect(stderr).not.toMatch(/unexpected error|    at /);
  });

  it("duplicated chunks publish each frame once: 12 outputs for 12 inputs, and the copies are counted", async () => {
    const [, second, third] = base.chunks;
    const copy = (c: typeof second) => base.bytes.subarray(c!.start, c!.indexEnd);
    const bytes = new Uint8Array([
      ...base.bytes.subarray(0, second!.indexEnd),
      ...copy(second),
      ...base.bytes.subarray(second!.indexEnd, base.dataEnd),
      ...copy(third),
      ...base.bytes.subarray(base.dataEnd),
    ]);
    const { code, frames } = await cli(bytes, "duplicated");
    expect(code).toBe(0);
    expect(frames).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const held = second!.keys.length + third!.keys.length;
    expect(stdout).toContain(`input duplicates  2 chunk(s) repeat earlier ones byte for byte (chunk 3 = chunk 2, chunk 7 = chunk 4); their ${held} messages were read once`);
  });

  it("fuzzed variants end to end: every frame whose image and CameraInfo the reader gives is processed once", { timeout: 60_000 }, async () => {
    const picked = variants(base, 44, FUZZ_SEED + 1).filter((_, i) => i % 4 === 0); // 11 variants, one per kind
    expect(new Set(picked.map((v) => v.kind)).size).toBe(11);
    for (const [n, variant] of picked.entries()) {
      const read = await readVariant(openBag, base, variant, join(dir, `fuzz-${n}-read.mcap`));
      const given = new Set(read.keys);
      const pairs = Array.from({ length: FRAMES }, (_, i) => i).filter((i) => given.has(imageKey(i)) && given.has(infoKey(i)));
      const { code, frames } = await cli(variant.bytes, `fuzz-${n}`);
      const label = `variant ${n} (${variant.kind})`;
      if (read.error !== undefined || pairs.length === 0) {
        expect(code, `${label}: ${stdout}${stderr}`).toBe(1);
        expect(stderr, label).toMatch(/^depthseg: .*(not an MCAP file|no readable message|no camera message could be read|no Image)/m);
        continue;
      }
      expect(code, `${label}: ${stderr}`).toBe(0);
      expect(frames, label).toEqual(pairs);
      // Intact chunks' frames are among them.
      for (let i = 0; i < FRAMES; i++) if (variant.intact.has(imageKey(i)) && variant.intact.has(infoKey(i))) expect(frames, label).toContain(i);
    }
  });
});

describe("replay --out", () => {
  let dir = "";
  let bundle = "";
  let input = "";
  let inputBytes: Buffer;
  beforeAll(async () => {
    dir = await tempDir("depthseg-out-");
    bundle = await writeAnalyticBundle(join(dir, "bundle"), { size: [6, 8] });
    const base = await cameraFuzzBase(dir);
    input = join(dir, "in.mcap");
    await writeFile(input, base.bytes);
    inputBytes = await readFile(input);
  });
  afterEach(() => vi.restoreAllMocks());

  const run = (output: string) =>
    replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      log: () => {},
      showProgress: false,
    });

  it("refuses a symlink or a hard link to the input, and leaves the input as it was", async () => {
    const viaSymlink = join(dir, "symlink.mcap");
    const viaHardLink = join(dir, "hardlink.mcap");
    await symlink(input, viaSymlink);
    await link(input, viaHardLink);
    await mkdir(join(dir, "sub"));
    for (const output of [viaSymlink, viaHardLink, join(dir, "sub", "..", "in.mcap")]) {
      await expect(run(output)).rejects.toThrow(FatalError);
      await expect(run(output)).rejects.toThrow(/is the input bag .*in\.mcap \(the same file\)/);
    }
    expect(await readFile(input)).toEqual(inputBytes);
    expect((await lstat(viaSymlink)).isSymbolicLink()).toBe(true);
  });

  it("writes through a symlink to another file, renaming the finished bag into place", async () => {
    const target = join(dir, "target.mcap");
    await writeFile(target, "old");
    const viaSymlink = join(dir, "to-target.mcap");
    await symlink(target, viaSymlink);
    const summary = await run(viaSymlink);
    expect(summary.stats.processed).toBe(FRAMES);
    expect((await lstat(viaSymlink)).isSymbolicLink()).toBe(true);
    expect(typed(await readOutputBag(target), "/depthseg/depth/image", "sensor_msgs/msg/Image")).toHaveLength(FRAMES);
    expect((await readdir(dir)).filter((n) => n.endsWith(".partial"))).toEqual([]);
  });

  it("a run that fails part way leaves the previous file under the final name, and no temporary file", async () => {
    const output = join(dir, "kept.mcap");
    await writeFile(output, "the previous run's output");
    const writeRaw = BagWriter.prototype.writeRaw;
    let writes = 0;
    vi.spyOn(BagWriter.prototype, "writeRaw").mockImplementation(function (this: BagWriter, ...args) {
      if (++writes > 20) return Promise.reject(new Error("ENOSPC: no space left on device, write"));
      return writeRaw.apply(this, args);
    });
    await expect(run(output)).rejects.toThrow(/cannot write .*kept\.mcap.*ENOSPC/);
    expect(await readFile(output, "utf8")).toBe("the previous run's output");
    expect((await readdir(dir)).filter((n) => n.endsWith(".partial"))).toEqual([]);
  });
});
