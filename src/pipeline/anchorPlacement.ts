// Where a LiDAR cloud sits relative to the camera (scale.source points): the /tf_static tree
// when it links the two frames (replay: from the bag; live: the /tf_static subscription), else
// the scale.extrinsics parameters. The tree wins when both are there: it is what the robot
// publishes for every other consumer of the cloud. Which one placed a frame pair is said once
// per pair, since a wrong placement gives wrong metres, not an error.

import { IDENTITY_TRANSFORM, type RigidTransform, type StaticTransforms } from "../geometry/staticTransforms.js";

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
