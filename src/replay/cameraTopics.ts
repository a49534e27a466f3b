// Which bag topics are the camera: from flags/params, or found when the bag has exactly one
// camera with a CameraInfo (its raw and compressed streams are one camera: raw is read).
// Pure: the caller supplies topics and first-message encodings.

import { FatalError } from "../errors.js";

export const IMAGE_TYPE = "sensor_msgs/msg/Image";
export const COMPRESSED_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage";
export const CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo";
/** Raw encodings that are a colour camera. */
const COLOUR_ENCODINGS = new Set(["rgb8", "bgr8", "rgba8", "bgra8"]);
/**
 * A mono camera's encoding, which is also a label map's: a mono8 topic counts as a camera only
 * with its own CameraInfo beside it (`<cam>/image_raw` ↔ `<cam>/camera_info`), not the bag's only one.
 */
const MONO_ENCODING = "mono8";
const COMPRESSED_SUFFIX = "/compressed";

export interface BagTopic {
  readonly topic: string;
  readonly schemaName: string;
}

export interface CameraTopics {
  readonly imageTopic: string;
  readonly imageEncoding: "raw" | "compressed";
  readonly cameraInfoTopic: string;
}

export interface CameraTopicRequest {
  readonly imageTopic: string;
  readonly cameraInfoTopic: string;
}

/**
 * @param firstEncoding encoding of a raw Image topic's first message (undefined if it has none),
 *   used to tell colour cameras from depth or label images recorded in the same bag.
 */
export function selectCameraTopics(
  topics: readonly BagTopic[],
  request: CameraTopicRequest,
  firstEncoding: (topic: string) => string | undefined,
): CameraTopics {
  const byName = new Map(topics.map((t) => [t.topic, t.schemaName]));
  const infoTopics = topics.filter((t) => t.schemaName === CAMERA_INFO_TYPE).map((t) => t.topic);
  const describeTopics = () => topics.map((t) => `${t.topic} [${t.schemaName}]`).join(", ") || "none";

  let imageTopic = request.imageTopic;
  if (imageTopic) {
    const schema = byName.get(imageTopic);
    if (!schema) throw new FatalError(`image topic ${imageTopic} is not in the bag (topics: ${describeTopics()})`);
    if (schema !== IMAGE_TYPE && schema !== COMPRESSED_IMAGE_TYPE) {
      throw new FatalError(`image topic ${imageTopic} has type ${schema}, expected ${IMAGE_TYPE} or ${COMPRESSED_IMAGE_TYPE}`);
    }
  } else {
    imageTopic = findCamera(topics, infoTopics, firstEncoding, describeTopics);
  }

  let cameraInfoTopic = request.cameraInfoTopic;
  if (cameraInfoTopic) {
    const schema = byName.get(cameraInfoTopic);
    if (schema !== CAMERA_INFO_TYPE) {
      throw new FatalError(
        schema
          ? `camera info topic ${cameraInfoTopic} has type ${schema}, expected ${CAMERA_INFO_TYPE}`
          : `camera info topic ${cameraInfoTopic} is not in the bag (CameraInfo topics: ${infoTopics.join(", ") || "none"})`,
      );
    }
  } else {
    const found = findCameraInfo(imageTopic, infoTopics);
    if (!found) {
      throw new FatalError(
        `no CameraInfo topic for ${imageTopic}: expected ${siblingInfoTopic(imageTopic)}` +
          ` (CameraInfo topics: ${infoTopics.join(", ") || "none"}); pass --camera-info-topic`,
      );
    }
    cameraInfoTopic = found;
  }
  return {
    imageTopic,
    imageEncoding: byName.get(imageTopic) === COMPRESSED_IMAGE_TYPE ? "compressed" : "raw",
    cameraInfoTopic,
  };
}

/**
 * The one camera image topic among `topics`. Streams of one camera (`<base>` and
 * `<base>/compressed`, image_transport's raw and compressed transports) count once, raw
 * preferred (no decode, no compression loss); the candidates are listed only when there are
 * really several cameras.
 */
function findCamera(
  topics: readonly BagTopic[],
  infoTopics: readonly string[],
  firstEncoding: (topic: string) => string | undefined,
  describeTopics: () => string,
): string {
  const candidates = topics.filter((t) => {
    if (t.schemaName === COMPRESSED_IMAGE_TYPE) return true;
    if (t.schemaName !== IMAGE_TYPE) return false;
    const encoding = firstEncoding(t.topic);
    if (encoding === MONO_ENCODING) return infoTopics.includes(siblingInfoTopic(t.topic));
    return encoding !== undefined && COLOUR_ENCODINGS.has(encoding);
  });
  const withInfo = candidates.filter((t) => findCameraInfo(t.topic, infoTopics) !== undefined);
  // One entry per camera stream base: the raw topic when it is a candidate, else the compressed one.
  const cameras = new Map<string, BagTopic>();
  for (const candidate of withInfo) {
    const base = streamBase(candidate.topic);
    const seen = cameras.get(base);
    if (!seen || (seen.schemaName === COMPRESSED_IMAGE_TYPE && candidate.schemaName === IMAGE_TYPE)) cameras.set(base, candidate);
  }
  if (cameras.size === 1) return [...cameras.values()][0]!.topic;
  const listed = (withInfo.length > 0 ? withInfo : candidates).map((t) => `${t.topic} [${t.schemaName}]`);
  const why =
    cameras.size > 1
      ? `${cameras.size} cameras with a CameraInfo (${[...cameras.keys()].join(", ")})`
      : candidates.length > 0
        ? "no camera with a matching CameraInfo"
        : "no camera image topic (rgb8, bgr8, rgba8, bgra8, mono8 beside its camera_info, or CompressedImage)";
  throw new FatalError(
    `cannot choose the camera: the bag has ${why}; pass --image-topic and --camera-info-topic. ` +
      `Candidates: ${listed.join(", ") || "none"}. Topics: ${describeTopics()}`,
  );
}

/** `<base>/compressed` → `<base>`: the image_transport stream both transports of a camera share. */
function streamBase(imageTopic: string): string {
  return imageTopic.endsWith(COMPRESSED_SUFFIX) ? imageTopic.slice(0, -COMPRESSED_SUFFIX.length) : imageTopic;
}

/** image_transport convention: /cam/image_raw[/compressed] ↔ /cam/camera_info; else the only one. */
function findCameraInfo(imageTopic: string, infoTopics: readonly string[]): string | undefined {
  const sibling = siblingInfoTopic(imageTopic);
  if (infoTopics.includes(sibling)) return sibling;
  return infoTopics.length === 1 ? infoTopics[0] : undefined;
}

function siblingInfoTopic(imageTopic: string): string {
  const base = streamBase(imageTopic);
  const parent = base.slice(0, Math.max(0, base.lastIndexOf("/")));
  return `${parent}/camera_info`;
}
