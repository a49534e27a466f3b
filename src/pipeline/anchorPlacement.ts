// Where a LiDAR cloud sits relative to the camera (scale.source points): the /tf_static tree
// when it links the two frames (replay: from the bag; live: the /tf_static subscription), else
// the scale.extrinsics parameters. The tree wins when both are there: it is what the robot
// publishes for every other consumer of the cloud. Which one placed a frame pair is said once
// per pair, since a wrong placement gives wrong metres, not an error.

import { IDENTITY_TRANSFORM, type RigidTransform, type StaticTransforms } from "../geometry/staticTransforms.js";
import { describeGroundPlane, groundPlaneFromTransform, type GroundPlane } from "../geometry/groundPlane.js";

export function cloudPlacer(
  transforms: StaticTransforms,
  /** Read per cloud: scale.extrinsics may change while running. */
  extrinsicsNow: () => RigidTransform,
  warn: (line: string) => void,
  info: (line: string) => void = warn,
): (cloudFrame: string, cameraFrame: string) => RigidTransform {
  const said = new Map<string, "tf" | "extrinsics">();
  const describe = (t: RigidTransform) =>
    `t = ${t.translation.join(", ")}, q = ${t.rotation.map((v) => v.toFixed(4)).join(", ")}`;
  return (cloudFrame, cameraFrame) => {
    if (cloudFrame === cameraFrame) return IDENTITY_TRANSFORM;
    const pair = `${cloudFrame} -> ${cameraFrame}`;
    const extrinsics = extrinsicsNow();
    const found = transforms.lookup(cameraFrame, cloudFrame);
    if (found) {
      if (said.get(pair) !== "tf") {
        said.set(pair, "tf");
        const ignored = isIdentity(extrinsics) ? "" : `; scale.extrinsics (${describe(extrinsics)}) ignored: /tf_static wins`;
        info(`scale anchors: clouds from "${cloudFrame}" placed in "${cameraFrame}" with /tf_static (${describe(found)})${ignored}`);
      }
      return found;
    }
    if (said.get(pair) !== "extrinsics") {
      said.set(pair, "extrinsics");
      warn(
        `scale anchors: no /tf_static transform from "${cloudFrame}" to "${cameraFrame}" (yet); placing the cloud with scale.extrinsics (${describe(extrinsics)})`,
      );
    }
    return extrinsics;
  };
}

function isIdentity(t: RigidTransform): boolean {
  const [x, y, z] = t.translation;
  const [qx, qy, qz] = t.rotation;
  return x === 0 && y === 0 && z === 0 && qx === 0 && qy === 0 && qz === 0;
}

/**
 * Where the floor is for scale.source ground_plane with scale.ground_frame set: the /tf_static
 * transform from that frame (z = 0 the floor, z up) into the camera's, or undefined when the tree
 * does not link them yet (the processor then uses scale.camera_height/pitch/roll, and says so).
 * As with clouds, which one placed a camera's floor is said once per camera frame.
 */
export function groundPlacer(
  transforms: StaticTransforms,
  /** scale.ground_frame (not dynamic). */
  groundFrame: string,
  cameraParamsNow: () => { readonly cameraHeight: number },
  warn: (line: string) => void,
  info: (line: string) => void = warn,
): (cameraFrame: string) => GroundPlane | undefined {
  const said = new Map<string, "tf" | "params" | "bad">();
  return (cameraFrame) => {
    const found = transforms.lookup(cameraFrame, groundFrame);
    if (found) {
      const plane = groundPlaneFromTransform(found);
      if (!(plane.height > 0)) {
        if (said.get(cameraFrame) !== "bad") {
          said.set(cameraFrame, "bad");
          warn(`scale anchors: /tf_static puts "${cameraFrame}" ${(-plane.height).toFixed(3)} m below the floor of "${groundFrame}" (z up); no ground-plane anchors`);
        }
        return { height: 0, down: plane.down };
      }
      if (said.get(cameraFrame) !== "tf") {
        said.set(cameraFrame, "tf");
        info(`scale anchors: the floor ("${groundFrame}" z = 0) placed in "${cameraFrame}" with /tf_static: ${describeGroundPlane(plane)}`);
      }
      return plane;
    }
    if (said.get(cameraFrame) !== "params") {
      said.set(cameraFrame, "params");
      const height = cameraParamsNow().cameraHeight;
      warn(
        `scale anchors: no /tf_static transform from "${groundFrame}" to "${cameraFrame}" (yet); ` +
          (height > 0 ? `using scale.camera_height/pitch/roll (${height} m)` : "no ground-plane anchors until it comes (scale.camera_height is 0)"),
      );
    }
    return undefined;
  };
}
