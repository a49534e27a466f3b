import { describe, expect, it } from "vitest";
import type { PinholeIntrinsics } from "../frame.js";
import { groundPlaneFromAngles, type GroundPlane } from "../geometry/groundPlane.js";
import { intrinsicsFromCalibration } from "../geometry/intrinsics.js";
import { CLASS_CABINET, CLASS_CYLINDER, CLASS_FLOOR, CLASS_WALL } from "../synthetic/classes.js";
import { renderFrame, syntheticCalibration } from "../synthetic/frames.js";
import { generateScene } from "../synthetic/scene.js";
import { anchorsFromFloorAndUprights, anchorsFromGroundPlane, labelsAtOutput, type DepthAnchors } from "./scaleAnchors.js";

const FLOOR = new Set([CLASS_FLOOR]);
const intrinsics: PinholeIntrinsics = { fx: 256, fy: 256, cx: 159.5, cy: 119.5, width: 320, height: 240 };

/** Relative error of each anchor against the true depth at its pixel. */
function errors(anchors: DepthAnchors, truth: Float32Array): number[] {
  return Array.from(anchors.pixels, (k, i) => Math.abs(anchors.depth[i]! - truth[k]!) / truth[k]!);
}
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;

/**
 * A floor and one vertical wall (horizontal normal `m`, `distance` metres from the optical
 * centre), seen by a camera with the plane's pitch and roll: labels and z-depth per pixel centre
 * by intersecting each ray with both.
 */
function floorAndWall(plane: GroundPlane, intr: PinholeIntrinsics, wallYaw: number, distance: number) {
  const [dx, dy, dz] = plane.down;
  // A horizontal direction (perpendicular to down), turned by wallYaw about the vertical.
  const forward = normalize([-dx * dz, -dy * dz, 1 - dz * dz]);
  const side = cross(plane.down, forward);
  const m = forward.map((f, i) => Math.cos(wallYaw) * f + Math.sin(wallYaw) * side[i]!) as [number, number, number];
  const labels = new Uint16Array(intr.width * intr.height);
  const depth = new Float32Array(intr.width * intr.height);
  for (let v = 0; v < intr.height; v++) {
    for (let u = 0; u < intr.width; u++) {
      const r = [(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, 1] as const;
      const toFloor = dx * r[0] + dy * r[1] + dz;
      const toWall = m[0] * r[0] + m[1] * r[1] + m[2];
      const tFloor = toFloor > 0 ? plane.height / toFloor : Infinity;
      const tWall = toWall > 0 ? distance / toWall : Infinity;
      const k = v * intr.width + u;
      labels[k] = tWall < tFloor ? CLASS_WALL : CLASS_FLOOR;
      depth[k] = Math.min(tWall, tFloor);
    }
  }
  return { labels, depth };
}
function normalize(v: number[]): [number, number, number] {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n];
}
function cross(a: readonly number[], b: readonly number[]): [number, number, number] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

describe("anchorsFromGroundPlane: floor pixels as rays meeting the plane", () => {
  it("a level camera: z = h·fy / (v − cy) on every floor row, nothing at or above the horizon band", () => {
    const plane = groundPlaneFromAngles(1.25, 0, 0);
    const anchors = anchorsFromGroundPlane(plane, intrinsics, 320, 240, () => true, 1e9);
    expect(anchors.pixels.length).toBeGreaterThan(100 * 320);
    for (let i = 0; i < anchors.pixels.length; i++) {
      const v = Math.floor(anchors.pixels[i]! / 320);
      expect(v).toBeGreaterThan(intrinsics.cy);
      expect(anchors.depth[i]).toBeCloseTo((1.25 * intrinsics.fy) / (v - intrinsics.cy), 3);
    }
  });
});

describe("anchorsFromFloorAndUprights: walls standing on the floor carry its metres upwards", () => {
  it("with no upright classes it is the floor alone", () => {
    const plane = groundPlaneFromAngles(1.3, 0.2, 0);
    const { labels } = floorAndWall(plane, intrinsics, 0.3, 4);
    const floorOnly = anchorsFromGroundPlane(plane, intrinsics, 320, 240, (k) => labels[k] === CLASS_FLOOR);
    const same = anchorsFromFloorAndUprights(plane, intrinsics, 320, 240, { labels, floorIds: FLOOR, uprightIds: new Set() });
    expect(same).toEqual(floorOnly);
  });

  // Pitched and rolled cameras, walls square-on and at 40°: the vertical's image is slanted.
  for (const [pitch, roll, yaw] of [[0, 0, 0], [0.25, 0, 0.7], [0.2, 0.15, -0.5], [-0.1, -0.2, 0.3]] as const) {
    it(`pitch ${pitch}, roll ${roll}, wall at ${yaw} rad: every wall anchor within 2 % of the wall's depth, half within 0.5 %`, () => {
      const plane = groundPlaneFromAngles(1.3, pitch, roll);
      const { labels, depth } = floorAndWall(plane, intrinsics, yaw, 4);
      const anchors = anchorsFromFloorAndUprights(plane, intrinsics, 320, 240, { labels, floorIds: FLOOR, uprightIds: new Set([CLASS_WALL]) }, 1e9);
      const onWall = anchors.pixels.filter((k) => labels[k] === CLASS_WALL).length;
      const wallPixels = labels.filter((l) => l === CLASS_WALL).length;
      // The walk covers much of the wall: not where the vertical leaves the image, nor, under
      // roll, between the slanted lines that start one column apart.
      expect(onWall).toBeGreaterThan(0.4 * wallPixels);
      const e = errors(anchors, depth);
      // The contact is known to half a pixel row (±0.6 % at 4 m, f = 256, 1.3 m up) and each
      // walked pixel's centre is up to half a pixel off the vertical (more where the wall slants away).
      expect(Math.max(...e)).toBeLessThan(0.02);
      expect(quantile(e, 0.5)).toBeLessThan(0.005);
    });
  }

  it("labels at a coarser output resolution: the same walk on labelsAtOutput", () => {
    const plane = groundPlaneFromAngles(1.3, 0.1, 0.05);
    const { labels, depth } = floorAndWall(plane, intrinsics, 0.4, 3.5);
    const outW = 160, outH = 120;
    const coarse = labelsAtOutput(labels, 320, 240, outW, outH);
    const coarseDepth = Float32Array.from({ length: outW * outH }, (_, k) => depth[(2 * Math.floor(k / outW) + 1) * 320 + 2 * (k % outW) + 1]!);
    const anchors = anchorsFromFloorAndUprights(plane, intrinsics, outW, outH, { labels: coarse, floorIds: FLOOR, uprightIds: new Set([CLASS_WALL]) }, 1e9);
    expect(anchors.pixels.filter((k) => coarse[k] === CLASS_WALL).length).toBeGreaterThan(0.6 * coarse.filter((l) => l === CLASS_WALL).length);
    // Output pixel centres are between camera pixels; truth is sampled half a camera pixel off.
    expect(quantile(errors(anchors, coarseDepth), 0.95)).toBeLessThan(0.02);
  });

  it("the synthetic world (walls, cabinets, pillars; exact labels): most upright pixels become anchors, 95 % of all within 2 %", () => {
    const scene = generateScene(7);
    const level = { ...scene, path: { ...scene.path, heightAmp: 0, pitchAmp: 0 } };
    const calibration = syntheticCalibration(320, 240);
    const intr = intrinsicsFromCalibration(calibration);
    const plane = groundPlaneFromAngles(level.path.height, -level.path.pitch, 0);
    let anchored = 0, uprightPixels = 0;
    const all: number[] = [];
    const uprightIds = new Set([CLASS_WALL, CLASS_CABINET, CLASS_CYLINDER]);
    for (const index of [0, 5, 10, 15]) {
      const frame = renderFrame(level, index, { calibration, framesPerLoop: 100 });
      const labels = Uint16Array.from(frame.labels);
      const anchors = anchorsFromFloorAndUprights(plane, intr, 320, 240, { labels, floorIds: FLOOR, uprightIds }, 1e9);
      for (const k of anchors.pixels) if (uprightIds.has(labels[k]!)) anchored++;
      for (const l of labels) if (uprightIds.has(l)) uprightPixels++;
      all.push(...errors(anchors, frame.depth));
    }
    // The rest: wall above furniture, whose floor contact is hidden (measured 0.65).
    expect(anchored).toBeGreaterThan(0.5 * uprightPixels);
    expect(quantile(all, 0.95)).toBeLessThan(0.02);
  });
});
