import { describe, expect, it } from "vitest";
import { StaticTransforms } from "../geometry/staticTransforms.js";
import { groundPlacer } from "./anchorPlacement.js";

/** REP 103 optical frame in a body frame: x_body = z_opt, y_body = -x_opt, z_body = -y_opt. */
const OPTICAL_IN_BODY: [number, number, number, number] = [-0.5, 0.5, -0.5, 0.5];

describe("groundPlacer: the floor from /tf_static (scale.ground_frame)", () => {
  it("uses the tree once it links the frames, says which placed the floor once per camera frame", () => {
    const tf = new StaticTransforms();
    const lines: string[] = [];
    const place = groundPlacer(tf, "base_footprint", () => ({ cameraHeight: 1.1 }), (l) => lines.push(`warn ${l}`), (l) => lines.push(`info ${l}`));
    // Not linked yet: undefined (the processor then uses the parameters), warned once.
    expect(place("cam")).toBeUndefined();
    expect(place("cam")).toBeUndefined();
    tf.set("base_footprint", "cam", { translation: [0, 0, 0.8], rotation: OPTICAL_IN_BODY });
    const plane = place("cam")!;
    expect(plane.height).toBeCloseTo(0.8, 12);
    expect(plane.down.map((v) => Number(v.toFixed(12)) + 0)).toEqual([0, 1, 0]);
    place("cam");
    expect(lines).toEqual([
      'warn scale anchors: no /tf_static transform from "base_footprint" to "cam" (yet); using scale.camera_height/pitch/roll (1.1 m)',
      'info scale anchors: the floor ("base_footprint" z = 0) placed in "cam" with /tf_static: 0.800 m above the floor, pitch 0.0°, roll 0.0°',
    ]);
  });

  it("a camera the tree puts under the floor gets no plane (height 0: no anchors) and one warning", () => {
    const tf = new StaticTransforms();
    tf.set("base_footprint", "cam", { translation: [0, 0, -0.2], rotation: OPTICAL_IN_BODY });
    const lines: string[] = [];
    const place = groundPlacer(tf, "base_footprint", () => ({ cameraHeight: 0 }), (l) => lines.push(l));
    expect(place("cam")!.height).toBe(0);
    expect(place("cam")!.height).toBe(0);
    expect(lines).toEqual(['scale anchors: /tf_static puts "cam" 0.200 m below the floor of "base_footprint" (z up); no ground-plane anchors']);
  });
});
