// Writes rosbag2-compatible MCAP: profile "ros2", ros2msg schemas, cdr messages, chunked
// (zstd, lz4 or uncompressed; chunkCompression.ts, compressed in worker threads by default:
// compressionPool.ts) with message/chunk indexes, offered QoS per
// channel, statistics and summary so `ros2 bag info`, `ros2 bag play` and Foxglove open it.
// McapFileWriter writes the records (large messages from their own buffer, at disk speed), chunk
// by chunk, into a temporary file that close() renames to `path` (fileWritable.ts): until then,
// the frames written are in complete chunks that stream readers and `mcap recover` read.

import { encodeMessage } from "../../messages/cdr.js";
import { rosTypeSchema } from "../../messages/definitions.js";
import type { RosMessageMap, RosTypeName } from "../../messages/types.js";
import type { QosProfile } from "../ros/qosProfiles.js";
import { chunkCompressor, type ChunkCompression } from "./chunkCompression.js";
import { ChunkCompressorPool } from "./compressionPool.js";
import { FileWritable, PartialFile } from "./fileWritable.js";
import { McapFileWriter } from "./mcapFileWriter.js";
import { offeredQosYaml } from "./offeredQos.js";

export interface BagWriterOptions {
  /** Target uncompressed chunk size in bytes (default 1 MiB, the MCAP library default). */
  readonly chunkSize?: number;
  /** Chunk compression (default "none"; `depthseg replay` defaults to DEFAULT_CHUNK_COMPRESSION). */
  readonly compression?: ChunkCompression;
  /**
   * Worker threads that compress chunks (default defaultCompressionWorkers(): the cores less two,
   * 1 to 4); 0 compresses on the calling thread. Unused without compression.
   */
  readonly compressionWorkers?: number;
  /** The QoS a topic's publisher offered, recorded as `offered_qos_profiles`; undefined: unknown (""). */
  readonly offeredQos?: (topic: string) => QosProfile | undefined;
}

export const BAG_PROFILE = "ros2";
export const BAG_LIBRARY = "depthseg";

/**
 * rosbag2 channel metadata for a topic whose offered QoS is not known: every distro's player
 * then uses its default profile. Known profiles are written by offeredQosYaml.
 */
export const OFFERED_QOS_PROFILES = "";

interface ChannelEntry {
  readonly id: number;
  sequence: number;
}

export class BagWriter {
  readonly #writer: McapFileWriter;
  readonly #file: PartialFile;
  readonly #pool: ChunkCompressorPool | undefined;
  readonly #offeredQos: (topic: string) => QosProfile | undefined;
  readonly #channels = new Map<string, ChannelEntry>();
  readonly #topicTypes = new Map<string, RosTypeName>();
  readonly #schemaIds = new Map<RosTypeName, number>();
  // The MCAP writer corrupts the file if calls overlap, so every operation is chained here.
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown = undefined;
  #closed = false;

  private constructor(
    readonly path: string,
    file: PartialFile,
    writer: McapFileWriter,
    pool: ChunkCompressorPool | undefined,
    offeredQos: (topic: string) => QosProfile | undefined,
  ) {
    this.#file = file;
    this.#pool = pool;
    this.#writer = writer;
    this.#offeredQos = offeredQos;
  }

  /** Bytes written to the file so far (the whole file once closed). */
  get bytesWritten(): number {
    return Number(this.#writer.position);
  }

  /** Where the bag is until close() gives it its name. */
  get partialPath(): string {
    return this.#file.partialPath;
  }

  static async create(path: string, options: BagWriterOptions = {}): Promise<BagWriter> {
    const file = await PartialFile.create(path);
    const compression = options.compression ?? "none";
    let pool: ChunkCompressorPool | undefined;
    try {
      const onThisThread = compression === "none" || options.compressionWorkers === 0;
      if (!onThisThread) {
        pool = await ChunkCompressorPool.start({ compression, ...(options.compressionWorkers === undefined ? {} : { workers: options.compressionWorkers }) });
      }
      const compressChunk = pool ?? (await chunkCompressor(compression));
      const writable = new FileWritable(file.handle);
      const writer = new McapFileWriter({
        writable,
        ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
        ...(compressChunk === undefined ? {} : { compressChunk }),
      });
      await writer.start({ profile: BAG_PROFILE, library: BAG_LIBRARY });
      return new BagWriter(path, file, writer, pool, options.offeredQos ?? (() => undefined));
    } catch (error) {
      await pool?.close();
      await file.discard();
      throw error;
    }
  }

  /** Encodes `message` as CDR and appends it; the channel is registered on first use. */
  write<K extends RosTypeName>(
    topic: string,
    typeName: K,
    logTime: bigint,
    message: RosMessageMap[K],
    publishTime: bigint = logTime,
  ): Promise<void> {
    // Encode before queueing so a bad message rejects this call without breaking the writer.
    const bytes = encodeMessage(typeName, message);
    return this.writeRaw(topic, typeName, logTime, bytes, publishTime);
  }

  /**
   * Appends already encoded bytes as is (also for building deliberately broken inputs). The
   * writer holds `bytes` until the returned promise resolves (copied or written to the file):
   * only then may the caller reuse that memory.
   */
  writeRaw(
    topic: string,
    typeName: RosTypeName,
    logTime: bigint,
    bytes: Uint8Array,
    publishTime: bigint = logTime,
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.path}: write after close`));
    // Checked synchronously: the channel itself is only registered once the queue gets there.
    const registered = this.#topicTypes.get(topic);
    if (registered !== undefined && registered !== typeName) {
      return Promise.reject(new Error(`${this.path}: topic ${topic} was registered as ${registered}, not ${typeName}`));
    }
    this.#topicTypes.set(topic, typeName);
    return this.#enqueue(async () => {
      const channel = this.#channels.get(topic) ?? this.#registerChannel(topic, typeName);
      const sequence = channel.sequence;
      channel.sequence = (channel.sequence + 1) >>> 0;
      await this.#writer.addMessage({ channelId: channel.id, sequence, logTime, publishTime, data: bytes });
    });
  }

  /**
   * Writes the summary and footer, closes the file and renames it to `path`. Safe to call twice.
   * When that fails, the temporary file is deleted and `path` is left as it was.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      await this.#tail.catch(() => undefined);
      return;
    }
    this.#closed = true;
    try {
      // end() waits for every chunk still being compressed.
      await this.#enqueue(() => this.#writer.end());
    } catch (error) {
      await this.#stopWriting();
      await this.#file.discard();
      throw error;
    }
    await this.#pool?.close();
    await this.#file.commit();
  }

  /**
   * For a failed run: waits for pending writes, stops chunk compression (chunks not yet written
   * are dropped), then deletes the temporary file; `path` is untouched.
   */
  async discard(): Promise<void> {
    this.#closed = true;
    await this.#tail.catch(() => undefined);
    await this.#stopWriting();
    await this.#file.discard();
  }

  /** Stops the compression workers and waits until no chunk write touches the file any more. */
  async #stopWriting(): Promise<void> {
    await this.#pool?.close();
    await this.#writer.settled();
  }

  #enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(async () => {
      if (this.#failure !== undefined) {
        throw new Error(`${this.path}: an earlier write failed`, { cause: this.#failure });
      }
      try {
        await operation();
      } catch (error) {
        this.#failure = error;
        throw error;
      }
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #registerChannel(topic: string, typeName: RosTypeName): ChannelEntry {
    let schemaId = this.#schemaIds.get(typeName);
    if (schemaId === undefined) {
      const { schemaText } = rosTypeSchema(typeName);
      schemaId = this.#writer.registerSchema({
        name: typeName,
        encoding: "ros2msg",
        data: new TextEncoder().encode(schemaText),
      });
      this.#schemaIds.set(typeName, schemaId);
    }
    const id = this.#writer.registerChannel({
      topic,
      schemaId,
      messageEncoding: "cdr",
      metadata: new Map([["offered_qos_profiles", qosMetadata(this.#offeredQos(topic))]]),
    });
    const entry: ChannelEntry = { id, sequence: 0 };
    this.#channels.set(topic, entry);
    return entry;
  }
}

function qosMetadata(profile: QosProfile | undefined): string {
  return profile === undefined ? OFFERED_QOS_PROFILES : offeredQosYaml(profile);
}
