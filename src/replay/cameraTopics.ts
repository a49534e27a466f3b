// Which bag topics are the camera: from flags/params, or found when the bag has exactly one
// colour camera with a CameraInfo. Pure: the caller supplies topics and first-message encodings.

import { FatalError } from "../errors.js";

export const IMAGE_TYPE = "sensor_msgs/msg/Image";
export const COMPRESSED_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage";
export const CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo";
/** Raw encodings that are a colour camera (mono8 is accepted as input, but never auto-picked: it is also a label map's encoding). */
const COLOUR_ENCODINGS = new Set(["rgb8", "bgr8", "rgba8", "bgra8"]);

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
    const candidates = topics.filter((t) => {
      if (t.schemaName === COMPRESSED_IMAGE_TYPE) return true;
      if (t.schemaName !== IMAGE_TYPE) return false;
      const encoding = firstEncoding(t.topic);
      return encoding !== undefined && COLOUR_ENCODINGS.has(encoding);
    });
    const withInfo = candidates.filter((t) => findCameraInfo(t.topic, infoTopics) !== undefined);
    if (withInfo.length !== 1) {
      const listed = (withInfo.length > 0 ? withInfo : candidates).map((t) => `${t.topic} [${t.schemaName}]`);
      const why =
        withInfo.length > 1
          ? `${withInfo.length} colour cameras with a CameraInfo`
          : candidates.length > 0
            ? "no colour camera with a matching CameraInfo"
            : "no colour camera topic";
      throw new FatalError(
        `cannot choose the camera: the bag has ${why}; pass --image-topic and --camera-info-topic. ` +
          `Candidates: ${listed.join(", ") || "none"}. Topics: ${describeTopics()}`,
      );
    }
    imageTopic = withInfo[0]!.topic;
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

/** image_transport convention: /cam/image_raw[/compressed] ↔ /cam/camera_info; else the only one. */
function findCameraInfo(imageTopic: string, infoTopics: readonly string[]): string | undefined {
  const sibling = siblingInfoTopic(imageTopic);
  if (infoTopics.includes(sibling)) return sibling;
  return infoTopics.length === 1 ? infoTopics[0] : undefined;
}

function siblingInfoTopic(imageTopic: string): string {
  const base = imageTopic.endsWith("/compressed") ? imageTopic.slice(0, -"/compressed".length) : imageTopic;
  const parent = base.slice(0, Math.max(0, base.lastIndexOf("/")));
  return `${parent}/camera_info`;
}
