// Errors that a run survives: each names what was wrong so the summary can count it by reason.

import { formatStamp, type StageName, type Stamp } from "./frame.js";

export type FrameFailureReason =
  | "image_size_mismatch"
  | "unknown_encoding"
  | "empty_image"
  | "image_too_large"
  | "invalid_camera_info"
  | "camera_info_size_mismatch"
  | "corrupt_compressed_image"
  | "invalid_stamp"
  | "no_camera_info"
  | "model_output_invalid"
  | "bad_message"
  | StageFailure;

/**
 * An error nobody anticipated (a bug, the environment), named after the stage it happened in;
 * `inference_failed` is also what a failed session.run reports.
 */
export type StageFailure = `${StageName}_failed`;

/** A problem with one input message or frame; the run continues with the next one. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  constructor(
    readonly reason: FrameFailureReason,
    readonly detail: string,
    readonly topic?: string,
    readonly stamp?: Stamp,
  ) {
    super(describe(reason, detail, topic, stamp));
  }

  /** The same error with topic/stamp attached, for kernels that do not know them. */
  at(topic: string, stamp: Stamp | undefined): FrameError {
    return new FrameError(this.reason, this.detail, topic, stamp);
  }
}

/** A problem that makes the whole run impossible (missing model, unreadable config). */
export class FatalError extends Error {
  override readonly name = "FatalError";
}

function describe(reason: FrameFailureReason, detail: string, topic?: string, stamp?: Stamp): string {
  const where = [topic, stamp ? `stamp ${formatStamp(stamp)}` : undefined].filter(Boolean).join(" @ ");
  return where ? `${where}: ${reason}: ${detail}` : `${reason}: ${detail}`;
}
