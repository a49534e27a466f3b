// Where a LiDAR cloud sits relative to the camera (scale.source points): the /tf_static tree
// when it links the two frames, else the scale.extrinsics parameters; said once per frame pair
// when the parameters stand in, since a wrong placement gives wrong metres, not an error.

import { IDENTITY_TRANSFORM, type RigidTransform, type StaticTransforms } from "../geometry/staticTransforms.js";

export function cloudPlacer(
  transforms: StaticTransforms,
  /** Read per cloud: scale.extrinsics may change while running. */
  extrinsicsNow: () => RigidTransform,
  warn: (line: string) => void,
): (cloudFrame: string, cameraFrame: string) => RigidTransform {
  const warned = new Set<string>();
  return (cloudFrame, cameraFrame) => {
    if (cloudFrame === cameraFrame) return IDENTITY_TRANSFORM;
    const found = transforms.lookup(cameraFrame, cloudFrame);
    if (found) return found;
    const extrinsics = extrinsicsNow();
    const pair = `${cloudFrame} -> ${cameraFrame}`;
    if (!warned.has(pair)) {
      warned.add(pair);
      warn(
        `scale anchors: no /tf_static transform (replay reads /tf_static from the bag; the live node has none) from "${cloudFrame}" to "${cameraFrame}"; placing the cloud with scale.extrinsics ` +
          `(t = ${extrinsics.translation.join(", ")}, q = ${extrinsics.rotation.map((v) => v.toFixed(4)).join(", ")})`,
      );
    }
    return extrinsics;
  };
}
