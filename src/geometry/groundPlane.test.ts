import { describe, expect, it } from "vitest";
import { groundPlaneFromAngles, groundPlaneFromTransform, describeGroundPlane } from "./groundPlane.js";
import { StaticTransforms } from "./staticTransforms.js";

/** Rotation about +y (REP 103 body frame: x forward, z up) by `angle`: positive tilts x down. */
const aboutY = (angle: number): [number, number, number, number] => [0, Math.sin(angle / 2), 0, Math.cos(angle / 2)];
/** REP 103 optical frame in a body frame: x_body = z_opt, y_body = -x_opt, z_body = -y_opt. */
const OPTICAL_IN_BODY: [number, number, number, number] = [-0.5, 0.5, -0.5, 0.5];

describe("groundPlaneFromAngles", () => {
  it("a level camera: down is the optical +y axis; pitch tips it towards +z, roll towards +x", () => {
    expect(groundPlaneFromAngles(1.2, 0, 0)).toEqual({ height: 1.2, down: [0, 1, 0] });
    const pitched = groundPlaneFromAngles(1, 0.3, 0).down;
    expect(pitched[0]).toBe(0);
    expect(pitched[1]).toBeCloseTo(Math.cos(0.3), 12);
    expect(pitched[2]).toBeCloseTo(Math.sin(0.3), 12);
    const rolled = groundPlaneFromAngles(1, 0, 0.2).down;
    expect(rolled[0]).toBeCloseTo(Math.sin(0.2), 12);
    expect(Math.hypot(...groundPlaneFromAngles(1, 0.4, -0.7).down)).toBeCloseTo(1, 12);
  });
});

describe("groundPlaneFromTransform: the floor as the z = 0 plane of a TF frame", () => {
  it("base_footprint -> base_link (pitched) -> camera optical frame gives the height and pitch of the angles", () => {
    for (const pitch of [0, 0.12, -0.3]) {
      const tf = new StaticTransforms();
      const cameraInBase: [number, number, number] = [0.1, 0.02, 0.3];
      const baseHeight = 0.9;
      tf.set("base_footprint", "base_link", { translation: [0, 0, baseHeight], rotation: aboutY(pitch) });
      tf.set("base_link", "camera_optical", { translation: cameraInBase, rotation: OPTICAL_IN_BODY });
      const plane = groundPlaneFromTransform(tf.lookup("camera_optical", "base_footprint")!);
      // The optical centre's height: the base's plus the camera offset rotated by the pitch.
      const height = baseHeight - Math.sin(pitch) * cameraInBase[0] + Math.cos(pitch) * cameraInBase[2];
      const expected = groundPlaneFromAngles(height, pitch, 0);
      expect(plane.height).toBeCloseTo(height, 12);
      for (let i = 0; i < 3; i++) expect(plane.down[i]).toBeCloseTo(expected.down[i]!, 12);
      expect(describeGroundPlane(plane)).toBe(`${height.toFixed(3)} m above the floor, pitch ${((pitch * 180) / Math.PI).toFixed(1)}°, roll 0.0°`);
    }
  });

  it("a camera under the floor's frame has a negative height (the placer refuses it)", () => {
    const plane = groundPlaneFromTransform({ translation: [0, -0.5, 0], rotation: [0, 0, 0, 1] });
    // Ground z (up) is the optical z axis here; its origin is 0.5 m along optical -y: height 0.
    expect(plane.height).toBeCloseTo(0, 12);
    const below = groundPlaneFromTransform({ translation: [0, 0, 2], rotation: [0, 0, 0, 1] });
    expect(below.height).toBeCloseTo(-2, 12);
  });
});
