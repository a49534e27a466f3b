import { describe, expect, it } from "vitest";
import type { CameraCalibration } from "../frame.js";
import { backProjectToXyz } from "../../tests/support/twoPassPointCloud.js";
import { intrinsicsFromCalibration } from "../geometry/intrinsics.js";
import { pinholeCalibration } from "../geometry/pinholeCalibration.js";
import { opticalToWorld, poseFromAngles, worldToOptical, type CameraPose, type Vec3 } from "./camera.js";
import { CLASS_CABINET, CLASS_CEILING, CLASS_CYLINDER, CLASS_FLOOR, CLASS_FURNITURE, CLASS_WALL } from "./classes.js";
import { renderFrame, syntheticCalibration } from "./frames.js";
import { renderView, type RenderTarget } from "./render.js";
import { generateScene, type Box, type Cylinder, type Room, type Scene } from "./scene.js";

/** A generated scene's materials and lights in a room of our choosing, with only the given furniture. */
function customScene(room: Room, boxes: Box[] = [], cylinders: Cylinder[] = []): Scene {
  return { ...generateScene(3), room, boxes, cylinders, items: [] };
}

function render(scene: Scene, pose: CameraPose, cal: CameraCalibration): RenderTarget {
  return renderView(scene, pose, intrinsicsFromCalibration(cal));
}

const material = generateScene(5).boxes[0]!.material;

describe("renderView depth is z along the optical axis", () => {
  // Room 10 x 8 x 8 m, camera at (5, 4, 2) looking along +z at the wall z = 8: every pixel of a
  // 160x120 image with f = 128 (±32° x ±25°) sees that wall, 6 m ahead.
  const room: Room = { width: 10, depth: 8, height: 8 };
  const cal = syntheticCalibration(160, 120);

  it("every pixel of a wall facing the camera square-on is at d, corners included", () => {
    const view = render(customScene(room), poseFromAngles([5, 4, 2], 0, 0), cal);
    expect(view.labels.every((l) => l === CLASS_WALL)).toBe(true);
    for (let i = 0; i < view.depth.length; i++) expect(Math.abs(view.depth[i]! - 6)).toBeLessThan(1e-4);
    // The corner pixel's ray is much longer than its z-depth.
    const { fx, fy, cx, cy } = intrinsicsFromCalibration(cal);
    const rayLength = 6 * Math.hypot(1, (0 - cx) / fx, (0 - cy) / fy);
    expect(rayLength).toBeGreaterThan(6.9);
    expect(view.depth[0]).toBeCloseTo(6, 4);
    expect(view.depth[view.depth.length - 1]).toBeCloseTo(6, 4);
  });

  it("the same for walls seen along -z, +x and -x (yaw pi, pi/2, -pi/2)", () => {
    const cases: { at: Vec3; yaw: number; d: number }[] = [
      { at: [5, 4, 7], yaw: Math.PI, d: 7 },
      { at: [3.5, 4, 5], yaw: Math.PI / 2, d: 6.5 },
      { at: [6, 4, 5], yaw: -Math.PI / 2, d: 6 },
    ];
    const wide: Room = { width: 10, depth: 10, height: 8 };
    for (const c of cases) {
      const view = render(customScene(wide), poseFromAngles(c.at, c.yaw, 0), cal);
      expect(view.labels.every((l) => l === CLASS_WALL)).toBe(true);
      let worst = 0;
      for (const z of view.depth) worst = Math.max(worst, Math.abs(z - c.d));
      expect(worst).toBeLessThan(1e-4);
    }
  });
});

describe("back-projected ground truth lands on the known surfaces", () => {
  it("a level camera: floor points at optical y = camera height, ceiling at y = -(H - height)", () => {
    const room: Room = { width: 6, depth: 7, height: 2.8 };
    const cal = syntheticCalibration(160, 120);
    const height = 1.37;
    const view = render(customScene(room), poseFromAngles([2.5, height, 1.5], 0.3, 0), cal);
    const intr = intrinsicsFromCalibration(cal);
    const { xyz } = backProjectToXyz(view.depth, intr, { decimation: 1, minRange: 0, maxRange: Infinity });
    let floor = 0;
    let ceiling = 0;
    for (let p = 0; p < view.labels.length; p++) {
      const y = xyz[p * 3 + 1]!;
      if (view.labels[p] === CLASS_FLOOR) {
        floor++;
        expect(Math.abs(y - height)).toBeLessThan(1e-3);
      } else if (view.labels[p] === CLASS_CEILING) {
        ceiling++;
        expect(Math.abs(y + (room.height - height))).toBeLessThan(1e-3);
      }
    }
    expect(floor).toBeGreaterThan(1000);
    expect(ceiling).toBeGreaterThan(500);
  });

  it("a generated scene from its path: every point lies on the plane or object its label names", () => {
    for (const seed of [11, 12]) {
      const scene = generateScene(seed);
      const cal = syntheticCalibration(120, 90);
      const intr = intrinsicsFromCalibration(cal);
      for (const index of [0, 37, 71]) {
        const frame = renderFrame(scene, index, { calibration: cal });
        const { xyz } = backProjectToXyz(frame.depth, intr, { decimation: 1, minRange: 0, maxRange: Infinity });
        const { width: W, depth: D, height: H } = scene.room;
        for (let p = 0; p < frame.labels.length; p++) {
          const w = opticalToWorld(frame.pose, [xyz[p * 3]!, xyz[p * 3 + 1]!, xyz[p * 3 + 2]!]);
          const label = frame.labels[p]!;
          const off =
            label === CLASS_FLOOR
              ? Math.abs(w[1])
              : label === CLASS_CEILING
                ? Math.abs(w[1] - H)
                : label === CLASS_WALL
                  ? Math.min(Math.abs(w[0]), Math.abs(w[0] - W), Math.abs(w[2]), Math.abs(w[2] - D))
                  : distanceToClass(scene, label, w);
          expect(off, `seed ${seed} frame ${index} pixel ${p} label ${label}`).toBeLessThan(1e-3);
        }
      }
    }
  });
});

/** Distance from `p` to the nearest solid of class `label` (0 on or inside it). */
function distanceToClass(scene: Scene, label: number, p: Vec3): number {
  let best = Infinity;
  for (const b of scene.boxes) {
    if (b.classId !== label) continue;
    const c = Math.cos(b.yaw);
    const s = Math.sin(b.yaw);
    const lx = c * (p[0] - b.x) + s * (p[2] - b.z);
    const lz = -s * (p[0] - b.x) + c * (p[2] - b.z);
    const ey = Math.max(b.y0 - p[1], p[1] - b.y1, 0);
    best = Math.min(best, Math.hypot(Math.max(Math.abs(lx) - b.hx, 0), ey, Math.max(Math.abs(lz) - b.hz, 0)));
  }
  for (const cyl of scene.cylinders) {
    if (cyl.classId !== label) continue;
    const ey = Math.max(cyl.y0 - p[1], p[1] - cyl.y1, 0);
    best = Math.min(best, Math.hypot(Math.max(Math.hypot(p[0] - cyl.x, p[2] - cyl.z) - cyl.radius, 0), ey));
  }
  return best;
}

describe("labels name the object hit", () => {
  // Odd size with the principal point on a pixel centre: the centre pixel's ray is the optical axis.
  const cal = pinholeCalibration(161, 121, 128, 128, 80, 60);
  const centre = 60 * 161 + 80;
  const room: Room = { width: 10, depth: 10, height: 3 };
  const eye: Vec3 = [5, 1.5, 2];

  it("an axis-aligned cabinet straight ahead: centre pixel is cabinet at its front face's distance", () => {
    const box: Box = { classId: CLASS_CABINET, x: 5, z: 5, hx: 0.5, hz: 0.5, y0: 0, y1: 2, yaw: 0, material };
    const view = render(customScene(room, [box]), poseFromAngles(eye, 0, 0), cal);
    expect(view.labels[centre]).toBe(CLASS_CABINET);
    expect(view.depth[centre]).toBeCloseTo(2.5, 5);
    expect(view.labels[0]).not.toBe(CLASS_CABINET);
  });

  it("a box turned 45°: the centre ray meets its front edge at d - hx*sqrt(2)", () => {
    const box: Box = { classId: CLASS_FURNITURE, x: 5, z: 6, hx: 0.4, hz: 0.4, y0: 0, y1: 2, yaw: Math.PI / 4, material };
    const view = render(customScene(room, [box]), poseFromAngles(eye, 0, 0), cal);
    expect(view.labels[centre]).toBe(CLASS_FURNITURE);
    expect(view.depth[centre]).toBeCloseTo(4 - 0.4 * Math.SQRT2, 5);
  });

  it("a cylinder straight ahead: centre pixel is cylinder at d - r; looking down on a bin shows its top", () => {
    const pillar: Cylinder = { classId: CLASS_CYLINDER, x: 5, z: 5, radius: 0.3, y0: 0, y1: 3, material };
    const view = render(customScene(room, [], [pillar]), poseFromAngles(eye, 0, 0), cal);
    expect(view.labels[centre]).toBe(CLASS_CYLINDER);
    expect(view.depth[centre]).toBeCloseTo(2.7, 5);

    const bin: Cylinder = { classId: CLASS_CYLINDER, x: 5, z: 4, radius: 0.3, y0: 0, y1: 0.5, material };
    const target: Vec3 = [5, 0.5, 4];
    const pose = poseFromAngles(eye, 0, Math.atan2(target[1] - eye[1], target[2] - eye[2]));
    const top = render(customScene(room, [], [bin]), pose, cal);
    expect(top.labels[centre]).toBe(CLASS_CYLINDER);
    expect(top.depth[centre]).toBeCloseTo(worldToOptical(pose, target)[2], 5);
  });
});

describe("camera helpers", () => {
  it("worldToOptical and opticalToWorld are inverse; the axes are right-handed x right, y down, z forward", () => {
    const pose = poseFromAngles([1, 1.4, 2], 0.7, -0.2);
    const p: Vec3 = [3, 0.2, 5];
    const back = opticalToWorld(pose, worldToOptical(pose, p));
    back.forEach((v, i) => expect(v).toBeCloseTo(p[i]!, 12));
    const [r, d, f] = [pose.right, pose.down, pose.forward];
    const cross = [r[1] * d[2] - r[2] * d[1], r[2] * d[0] - r[0] * d[2], r[0] * d[1] - r[1] * d[0]];
    cross.forEach((v, i) => expect(v).toBeCloseTo(f[i]!, 12));
    expect(pose.right[1]).toBe(0); // no roll
    expect(pose.down[1]).toBeLessThan(0); // down points to world -y (y is up)
  });
});
