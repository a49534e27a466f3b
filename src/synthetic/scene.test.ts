import { describe, expect, it } from "vitest";
import { parseLabels } from "../inference/labels.js";
import { pathPosition } from "./camera.js";
import { labelsYaml, SYNTHETIC_CLASSES } from "./classes.js";
import { framePose, renderFrame, syntheticCalibration } from "./frames.js";
import { furnitureClearance, generateScene, insideFurniture, PATH_CLEARANCE, PATH_WALL_CLEARANCE } from "./scene.js";
import { textureMix, type TextureKind } from "./textures.js";

describe("generateScene", () => {
  it("is deterministic: the same seed gives the same scene and the same RGB, depth and label bytes", () => {
    expect(generateScene(42)).toEqual(generateScene(42));
    const cal = syntheticCalibration(96, 72);
    const a = renderFrame(generateScene(42), 5, { calibration: cal });
    const b = renderFrame(generateScene(42), 5, { calibration: cal });
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(Buffer.from(a.depth.buffer).equals(Buffer.from(b.depth.buffer))).toBe(true);
    expect(Buffer.from(a.labels).equals(Buffer.from(b.labels))).toBe(true);
    const c = renderFrame(generateScene(43), 5, { calibration: cal });
    expect(Buffer.from(a.image.data).equals(Buffer.from(c.image.data))).toBe(false);
  });

  it("rooms are 4-9 m x 4-9 m x 2.5-3.2 m and vary with the seed", () => {
    const rooms = Array.from({ length: 40 }, (_, i) => generateScene(i).room);
    for (const r of rooms) {
      expect(r.width).toBeGreaterThanOrEqual(4);
      expect(r.width).toBeLessThanOrEqual(9);
      expect(r.depth).toBeGreaterThanOrEqual(4);
      expect(r.depth).toBeLessThanOrEqual(9);
      expect(r.height).toBeGreaterThanOrEqual(2.5);
      expect(r.height).toBeLessThanOrEqual(3.2);
    }
    expect(new Set(rooms.map((r) => r.width.toFixed(2))).size).toBeGreaterThan(30);
  });

  it("the camera never is inside furniture: its path keeps clear of every footprint and wall, 1.0-1.7 m high", () => {
    for (let seed = 0; seed < 40; seed++) {
      const scene = generateScene(seed);
      expect(scene.items.length, `seed ${seed}`).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < 500; i++) {
        const p = pathPosition(scene.path, i / 500);
        expect(insideFurniture(scene, p), `seed ${seed} at ${p.join(", ")}`).toBe(false);
        expect(furnitureClearance(scene, p[0], p[2])).toBeGreaterThan(PATH_CLEARANCE - 0.01);
        expect(Math.min(p[0], scene.room.width - p[0], p[2], scene.room.depth - p[2])).toBeGreaterThan(PATH_WALL_CLEARANCE - 0.01);
        expect(p[1]).toBeGreaterThanOrEqual(1.0);
        expect(p[1]).toBeLessThanOrEqual(1.7);
      }
      // The first frame's camera, in particular, and nothing is rendered closer than 0.3 m.
      expect(insideFurniture(scene, framePose(scene, 0).position)).toBe(false);
    }
    const frame = renderFrame(generateScene(7), 0, { calibration: syntheticCalibration(64, 48) });
    expect(Math.min(...frame.depth)).toBeGreaterThan(0.3);
  });

  it("the path is closed and smooth", () => {
    const scene = generateScene(9);
    const a = pathPosition(scene.path, 0);
    const b = pathPosition(scene.path, 1);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 9));
    for (let i = 0; i < 100; i++) {
      const p = pathPosition(scene.path, i / 100);
      const q = pathPosition(scene.path, (i + 1) / 100);
      expect(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])).toBeLessThan(0.6);
    }
  });

  it("every class appears across a few scenes", () => {
    const cal = syntheticCalibration(80, 60);
    const counts = new Array<number>(SYNTHETIC_CLASSES.length).fill(0);
    for (let seed = 1; seed <= 4; seed++) {
      const scene = generateScene(seed);
      for (let index = 0; index < 100; index += 17) {
        for (const label of renderFrame(scene, index, { calibration: cal }).labels) counts[label]!++;
      }
    }
    counts.forEach((count, id) => expect(count, SYNTHETIC_CLASSES[id]!.name).toBeGreaterThan(0));
  });
});

describe("classes", () => {
  it("has at least 6 classes with ids 0..n-1, and labelsYaml() is a valid bundle labels.yaml", () => {
    expect(SYNTHETIC_CLASSES.length).toBeGreaterThanOrEqual(6);
    SYNTHETIC_CLASSES.forEach((c, i) => expect(c.id).toBe(i));
    const parsed = parseLabels(labelsYaml(), "labels.yaml");
    expect(parsed.classes).toEqual(SYNTHETIC_CLASSES.map((c) => ({ id: c.id, name: c.name, color: [...c.color] })));
  });
});

describe("textures", () => {
  it("every pattern mixes within [0, 1]", () => {
    const kinds: TextureKind[] = ["plain", "checker", "stripes", "noise", "wood"];
    for (const texture of kinds) {
      const m = { texture, a: [0, 0, 0], b: [1, 1, 1], scale: 0.3, angle: 0.4, seed: 1234 } as const;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < 2000; i++) {
        const v = textureMix(m, (i % 50) * 0.037 - 1, Math.floor(i / 50) * 0.041 - 0.5);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo, texture).toBeGreaterThanOrEqual(0);
      expect(hi, texture).toBeLessThanOrEqual(1);
      expect(hi - lo, texture).toBeGreaterThan(0.05);
    }
  });
});
