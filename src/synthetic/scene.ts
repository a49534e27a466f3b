// Seeded indoor scenes: a room (floor, 4 walls, ceiling), furniture as y-rotated boxes and
// vertical cylinders, textured materials, ambient + point lights, and the camera's closed path.
// Everything is drawn from one mulberry32 stream, so a seed always gives the same scene.

import { mulberry32 } from "./prng.js";
import { pathPosition, type CameraPath, type Vec3 } from "./camera.js";
import { CLASS_CABINET, CLASS_CYLINDER, CLASS_FURNITURE } from "./classes.js";
import type { Material, Rgb01, TextureKind } from "./textures.js";

export interface Room {
  /** Extent along x (metres). */
  readonly width: number;
  /** Extent along z (metres). */
  readonly depth: number;
  /** Extent along y: floor at y = 0, ceiling at y = height. */
  readonly height: number;
}

/** A box standing upright, rotated by `yaw` about the vertical axis through its centre (x, z). */
export interface Box {
  readonly classId: number;
  readonly x: number;
  readonly z: number;
  /** Half extents along the box's own x and z axes. */
  readonly hx: number;
  readonly hz: number;
  readonly y0: number;
  readonly y1: number;
  /** Local x axis in the world is (cos yaw, 0, sin yaw); local z is (-sin yaw, 0, cos yaw). */
  readonly yaw: number;
  readonly material: Material;
}

export interface Cylinder {
  readonly classId: number;
  readonly x: number;
  readonly z: number;
  readonly radius: number;
  readonly y0: number;
  readonly y1: number;
  readonly material: Material;
}

export interface PointLight {
  readonly position: Vec3;
  readonly intensity: number;
  readonly color: Rgb01;
}

/** The ground footprint of one piece of furniture (an oriented rectangle or a circle). */
export type Footprint =
  | { readonly kind: "rect"; readonly x: number; readonly z: number; readonly hx: number; readonly hz: number; readonly yaw: number }
  | { readonly kind: "circle"; readonly x: number; readonly z: number; readonly radius: number };

export interface FurnitureItem {
  readonly type: "table" | "bed" | "sideboard" | "cabinet" | "pillar" | "bin";
  readonly footprint: Footprint;
  readonly height: number;
}

export interface Scene {
  readonly seed: number;
  readonly room: Room;
  readonly floor: Material;
  readonly ceiling: Material;
  /** Walls x = 0, x = width, z = 0, z = depth. */
  readonly walls: readonly [Material, Material, Material, Material];
  readonly boxes: readonly Box[];
  readonly cylinders: readonly Cylinder[];
  readonly items: readonly FurnitureItem[];
  readonly lights: readonly PointLight[];
  readonly ambient: number;
  /** Direct light falls off as 1 / (1 + falloff * d^2). */
  readonly falloff: number;
  readonly path: CameraPath;
}

/** The camera path keeps at least this distance (metres) from every furniture footprint... */
export const PATH_CLEARANCE = 0.5;
/** ... and from every wall. */
export const PATH_WALL_CLEARANCE = 0.7;
/** Path samples used for the clearance checks. */
const PATH_SAMPLES = 720;

type Rng = () => number;

function mixSeed(seed: number): number {
  let h = Math.imul((seed | 0) ^ 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

const range = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

function hsv(h: number, s: number, v: number): Rgb01 {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

function darker(c: Rgb01, k: number): Rgb01 {
  return [c[0] * k, c[1] * k, c[2] * k];
}

function material(rng: Rng, texture: TextureKind, a: Rgb01, b: Rgb01, scale: number, angle = 0): Material {
  return { texture, a, b, scale, angle, seed: Math.floor(rng() * 4294967296) | 0 };
}

function floorMaterial(rng: Rng): Material {
  const kind = pick(rng, ["wood", "wood", "checker", "noise"] as const);
  const angle = pick(rng, [0, Math.PI / 2]);
  if (kind === "wood") {
    const base = hsv(range(rng, 0.04, 0.1), range(rng, 0.35, 0.7), range(rng, 0.35, 0.75));
    return material(rng, "wood", base, darker(base, range(rng, 0.45, 0.7)), range(rng, 0.12, 0.25), angle);
  }
  if (kind === "checker") {
    const a = hsv(rng(), range(rng, 0, 0.25), range(rng, 0.55, 0.9));
    const b = hsv(rng(), range(rng, 0, 0.3), range(rng, 0.2, 0.5));
    return material(rng, "checker", a, b, range(rng, 0.3, 0.6), angle + range(rng, -0.1, 0.1));
  }
  const a = hsv(rng(), range(rng, 0.1, 0.5), range(rng, 0.3, 0.7));
  return material(rng, "noise", a, darker(a, range(rng, 0.5, 0.8)), range(rng, 0.05, 0.3));
}

function wallMaterial(rng: Rng): Material {
  const kind = pick(rng, ["plain", "plain", "stripes", "noise", "checker"] as const);
  const a = hsv(rng(), range(rng, 0.03, 0.3), range(rng, 0.7, 0.95));
  if (kind === "plain") return material(rng, "plain", a, darker(a, 0.8), range(rng, 0.5, 2));
  if (kind === "stripes") {
    const b = hsv(rng(), range(rng, 0.1, 0.4), range(rng, 0.5, 0.85));
    return material(rng, "stripes", a, b, range(rng, 0.08, 0.4));
  }
  if (kind === "noise") return material(rng, "noise", a, darker(a, range(rng, 0.6, 0.85)), range(rng, 0.2, 1.5));
  const b = hsv(rng(), range(rng, 0, 0.3), range(rng, 0.55, 0.85));
  return material(rng, "checker", a, b, range(rng, 0.12, 0.3));
}

function ceilingMaterial(rng: Rng): Material {
  const a = hsv(rng(), range(rng, 0, 0.08), range(rng, 0.85, 0.97));
  const kind = pick(rng, ["plain", "plain", "checker"] as const);
  return material(rng, kind, a, darker(a, range(rng, 0.75, 0.9)), kind === "checker" ? range(rng, 0.5, 0.65) : 1);
}

function furnitureMaterial(rng: Rng): Material {
  const kind = pick(rng, ["wood", "wood", "plain", "noise", "stripes"] as const);
  if (kind === "wood") {
    const base = hsv(range(rng, 0.03, 0.12), range(rng, 0.3, 0.75), range(rng, 0.25, 0.8));
    return material(rng, "wood", base, darker(base, range(rng, 0.4, 0.7)), range(rng, 0.1, 0.4), pick(rng, [0, Math.PI / 2]));
  }
  const a = hsv(rng(), range(rng, 0.1, 0.8), range(rng, 0.25, 0.9));
  if (kind === "stripes") {
    const b = hsv(rng(), range(rng, 0.1, 0.8), range(rng, 0.2, 0.8));
    return material(rng, "stripes", a, b, range(rng, 0.1, 0.5), pick(rng, [0, Math.PI / 2]));
  }
  return material(rng, kind, a, darker(a, range(rng, 0.6, 0.85)), range(rng, 0.1, 0.8));
}

// ---------------------------------------------------------------------------------------------
// Footprint geometry (ground plane x, z)

/** Distance from (px, pz) to the footprint (0 inside). */
export function footprintDistance(f: Footprint, px: number, pz: number): number {
  const ox = px - f.x;
  const oz = pz - f.z;
  if (f.kind === "circle") return Math.max(0, Math.hypot(ox, oz) - f.radius);
  const c = Math.cos(f.yaw);
  const s = Math.sin(f.yaw);
  const lx = c * ox + s * oz;
  const lz = -s * ox + c * oz;
  return Math.hypot(Math.max(0, Math.abs(lx) - f.hx), Math.max(0, Math.abs(lz) - f.hz));
}

function rectCorners(f: Footprint & { kind: "rect" }): [number, number][] {
  const c = Math.cos(f.yaw);
  const s = Math.sin(f.yaw);
  return [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ].map(([a, b]) => [f.x + c * a! * f.hx - s * b! * f.hz, f.z + s * a! * f.hx + c * b! * f.hz]);
}

function insideRoom(f: Footprint, room: Room, margin: number): boolean {
  if (f.kind === "circle") {
    return f.x - f.radius >= margin && f.x + f.radius <= room.width - margin && f.z - f.radius >= margin && f.z + f.radius <= room.depth - margin;
  }
  return rectCorners(f).every(([x, z]) => x >= margin && x <= room.width - margin && z >= margin && z <= room.depth - margin);
}

/** True when the footprints come closer than `gap` (conservative for rectangles: SAT on expanded boxes). */
function footprintsOverlap(a: Footprint, b: Footprint, gap: number): boolean {
  if (a.kind === "circle" && b.kind === "circle") return Math.hypot(a.x - b.x, a.z - b.z) < a.radius + b.radius + gap;
  if (a.kind === "circle") return footprintDistance(b, a.x, a.z) < a.radius + gap;
  if (b.kind === "circle") return footprintDistance(a, b.x, b.z) < b.radius + gap;
  const ea = { ...a, hx: a.hx + gap / 2, hz: a.hz + gap / 2 };
  const eb = { ...b, hx: b.hx + gap / 2, hz: b.hz + gap / 2 };
  const ca = rectCorners(ea);
  const cb = rectCorners(eb);
  for (const yaw of [a.yaw, b.yaw]) {
    for (const [ax, az] of [
      [Math.cos(yaw), Math.sin(yaw)],
      [-Math.sin(yaw), Math.cos(yaw)],
    ] as const) {
      const project = (pts: [number, number][]) => pts.map(([x, z]) => x * ax + z * az);
      const pa = project(ca);
      const pb = project(cb);
      if (Math.max(...pa) < Math.min(...pb) || Math.max(...pb) < Math.min(...pa)) return false;
    }
  }
  return true;
}

/** Smallest distance from the camera path (sampled) to the footprint. */
function pathClearance(path: CameraPath, f: Footprint): number {
  let best = Infinity;
  for (let i = 0; i < PATH_SAMPLES; i++) {
    const p = pathPosition(path, i / PATH_SAMPLES);
    best = Math.min(best, footprintDistance(f, p[0], p[2]));
  }
  return best;
}

/** Smallest horizontal distance from (x, z) to any furniture footprint (0 when inside one). */
export function furnitureClearance(scene: Scene, x: number, z: number): number {
  let best = Infinity;
  for (const item of scene.items) best = Math.min(best, footprintDistance(item.footprint, x, z));
  return best;
}

/** True when the world point lies inside a box or cylinder of the scene (surfaces included). */
export function insideFurniture(scene: Scene, p: Vec3): boolean {
  return insideSolids(scene.boxes, scene.cylinders, p);
}

function insideSolids(boxes: readonly Box[], cylinders: readonly Cylinder[], p: Vec3): boolean {
  for (const b of boxes) {
    if (p[1] < b.y0 || p[1] > b.y1) continue;
    if (footprintDistance({ kind: "rect", x: b.x, z: b.z, hx: b.hx, hz: b.hz, yaw: b.yaw }, p[0], p[2]) === 0) return true;
  }
  for (const c of cylinders) {
    if (p[1] >= c.y0 && p[1] <= c.y1 && Math.hypot(p[0] - c.x, p[2] - c.z) <= c.radius) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Furniture

type ItemType = FurnitureItem["type"];

interface Placement {
  readonly x: number;
  readonly z: number;
  readonly yaw: number;
}

/** Box parts of one item in its own frame: centre offset (ox, oz), half sizes, y range. */
interface Part {
  readonly ox: number;
  readonly oz: number;
  readonly hx: number;
  readonly hz: number;
  readonly y0: number;
  readonly y1: number;
}

interface Design {
  readonly type: ItemType;
  /** Half extents of the footprint (rect), or radius in hx (circle). */
  readonly hx: number;
  readonly hz: number;
  readonly height: number;
  readonly parts: readonly Part[];
  readonly round: boolean;
}

function design(rng: Rng, type: ItemType, room: Room): Design {
  switch (type) {
    case "table": {
      const hx = range(rng, 0.4, 0.9);
      const hz = range(rng, 0.3, 0.5);
      const h = range(rng, 0.7, 0.78);
      const top = range(rng, 0.035, 0.06);
      const leg = range(rng, 0.025, 0.04);
      const inset = range(rng, 0.03, 0.08);
      const lx = hx - inset - leg;
      const lz = hz - inset - leg;
      const parts: Part[] = [{ ox: 0, oz: 0, hx, hz, y0: h - top, y1: h }];
      for (const [sx, sz] of [
        [-1, -1],
        [1, -1],
        [-1, 1],
        [1, 1],
      ] as const) {
        parts.push({ ox: sx * lx, oz: sz * lz, hx: leg, hz: leg, y0: 0, y1: h - top });
      }
      return { type, hx, hz, height: h, parts, round: false };
    }
    case "bed": {
      const hx = range(rng, 0.45, 0.9);
      const hz = range(rng, 0.95, 1.05);
      const h = range(rng, 0.42, 0.6);
      const board = range(rng, 0.85, 1.1);
      return {
        type,
        hx,
        hz,
        height: board,
        parts: [
          { ox: 0, oz: 0.03, hx, hz: hz - 0.03, y0: 0, y1: h },
          { ox: 0, oz: -hz + 0.03, hx, hz: 0.03, y0: 0, y1: board },
        ],
        round: false,
      };
    }
    case "sideboard": {
      const hx = range(rng, 0.35, 0.9);
      const hz = range(rng, 0.18, 0.3);
      const h = range(rng, 0.45, 0.9);
      return { type, hx, hz, height: h, parts: [{ ox: 0, oz: 0, hx, hz, y0: 0, y1: h }], round: false };
    }
    case "cabinet": {
      const hx = range(rng, 0.25, 0.7);
      const hz = range(rng, 0.18, 0.32);
      const h = Math.min(range(rng, 1.2, 2.2), room.height - 0.4);
      return { type, hx, hz, height: h, parts: [{ ox: 0, oz: 0, hx, hz, y0: 0, y1: h }], round: false };
    }
    case "pillar": {
      const r = range(rng, 0.12, 0.3);
      return { type, hx: r, hz: r, height: room.height, parts: [], round: true };
    }
    case "bin": {
      const r = range(rng, 0.12, 0.28);
      return { type, hx: r, hz: r, height: range(rng, 0.35, 0.9), parts: [], round: true };
    }
  }
}

function footprintOf(d: Design, p: Placement): Footprint {
  return d.round
    ? { kind: "circle", x: p.x, z: p.z, radius: d.hx }
    : { kind: "rect", x: p.x, z: p.z, hx: d.hx, hz: d.hz, yaw: p.yaw };
}

/** Against a wall (its back, the local -z side, towards the wall), or anywhere in the room. */
function placement(rng: Rng, d: Design, room: Room, againstWall: boolean): Placement {
  if (!againstWall) {
    return { x: range(rng, 0, room.width), z: range(rng, 0, room.depth), yaw: rng() * Math.PI };
  }
  const wall = Math.floor(rng() * 4);
  const jitter = d.round ? 0 : range(rng, -0.04, 0.04);
  const off = 0.03 + d.hz + Math.abs(Math.sin(jitter)) * d.hx;
  const along = (length: number) => range(rng, d.hx + 0.05, length - d.hx - 0.05);
  switch (wall) {
    case 0:
      return { x: off, z: along(room.depth), yaw: -Math.PI / 2 + jitter };
    case 1:
      return { x: room.width - off, z: along(room.depth), yaw: Math.PI / 2 + jitter };
    case 2:
      return { x: along(room.width), z: off, yaw: jitter };
    default:
      return { x: along(room.width), z: room.depth - off, yaw: Math.PI + jitter };
  }
}

const WALL_TYPES: readonly ItemType[] = ["cabinet", "cabinet", "sideboard", "bed", "table", "pillar", "bin"];
const INTERIOR_TYPES: readonly ItemType[] = ["table", "table", "sideboard", "bin", "pillar", "cabinet"];

// ---------------------------------------------------------------------------------------------

function cameraPath(rng: Rng, room: Room): CameraPath {
  const cx = room.width / 2 + range(rng, -0.1, 0.1) * room.width;
  const cz = room.depth / 2 + range(rng, -0.1, 0.1) * room.depth;
  const wobble = [
    { k: 2, amp: range(rng, 0, 0.08), phase: rng() * 2 * Math.PI },
    { k: 3, amp: range(rng, 0, 0.06), phase: rng() * 2 * Math.PI },
  ];
  const grow = 1 + wobble[0]!.amp + wobble[1]!.amp;
  const maxRx = (Math.min(cx, room.width - cx) - PATH_WALL_CLEARANCE) / grow;
  const maxRz = (Math.min(cz, room.depth - cz) - PATH_WALL_CLEARANCE) / grow;
  const height = range(rng, 1.15, 1.55);
  const heightAmp = range(rng, 0, Math.min(height - 1.0, 1.7 - height, 0.15));
  return {
    cx,
    cz,
    rx: maxRx * range(rng, 0.45, 0.95),
    rz: maxRz * range(rng, 0.45, 0.95),
    wobble,
    theta0: rng() * 2 * Math.PI,
    direction: rng() < 0.5 ? 1 : -1,
    height,
    heightAmp,
    heightFreq: 1 + Math.floor(rng() * 2),
    heightPhase: rng() * 2 * Math.PI,
    yawAmp: range(rng, 0.15, 1.2),
    yawFreq: 1 + Math.floor(rng() * 3),
    yawPhase: rng() * 2 * Math.PI,
    pitch: range(rng, -0.3, 0.02),
    pitchAmp: range(rng, 0.03, 0.15),
    pitchFreq: 1 + Math.floor(rng() * 2),
    pitchPhase: rng() * 2 * Math.PI,
  };
}

/** The scene of `seed` (any 32-bit integer). */
export function generateScene(seed: number): Scene {
  const rng = mulberry32(mixSeed(seed));
  const room: Room = { width: range(rng, 4, 9), depth: range(rng, 4, 9), height: range(rng, 2.5, 3.2) };
  const floor = floorMaterial(rng);
  const ceiling = ceilingMaterial(rng);
  const wall = wallMaterial(rng);
  const walls: [Material, Material, Material, Material] = [wall, wall, wall, wall];
  if (rng() < 0.35) walls[Math.floor(rng() * 4)] = wallMaterial(rng);
  const path = cameraPath(rng, room);

  const boxes: Box[] = [];
  const cylinders: Cylinder[] = [];
  const items: FurnitureItem[] = [];
  // One of each class first (so every scene shows all classes somewhere), then a random mix.
  const wanted: { type: ItemType; wall: boolean }[] = [
    { type: "cabinet", wall: true },
    { type: pick(rng, ["table", "bed", "sideboard"] as const), wall: rng() < 0.5 },
    { type: pick(rng, ["pillar", "bin"] as const), wall: rng() < 0.5 },
  ];
  const extraWall = 3 + Math.floor(rng() * 5);
  const extraInterior = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < extraWall; i++) wanted.push({ type: pick(rng, WALL_TYPES), wall: true });
  for (let i = 0; i < extraInterior; i++) wanted.push({ type: pick(rng, INTERIOR_TYPES), wall: false });

  for (const want of wanted) {
    for (let attempt = 0; attempt < 60; attempt++) {
      const d = design(rng, want.type, room);
      const where = placement(rng, d, room, want.wall);
      const footprint = footprintOf(d, where);
      if (!insideRoom(footprint, room, 0.02)) continue;
      if (items.some((other) => footprintsOverlap(footprint, other.footprint, 0.08))) continue;
      if (pathClearance(path, footprint) < PATH_CLEARANCE) continue;
      const mat = furnitureMaterial(rng);
      items.push({ type: want.type, footprint, height: d.height });
      if (d.round) {
        const classId = CLASS_CYLINDER;
        cylinders.push({ classId, x: where.x, z: where.z, radius: d.hx, y0: 0, y1: d.height, material: mat });
      } else {
        const classId = want.type === "cabinet" ? CLASS_CABINET : CLASS_FURNITURE;
        const c = Math.cos(where.yaw);
        const s = Math.sin(where.yaw);
        for (const part of d.parts) {
          boxes.push({
            classId,
            x: where.x + c * part.ox - s * part.oz,
            z: where.z + s * part.ox + c * part.oz,
            hx: part.hx,
            hz: part.hz,
            y0: part.y0,
            y1: part.y1,
            yaw: where.yaw,
            material: mat,
          });
        }
      }
      break;
    }
  }

  const lightCount = rng() < 0.5 ? 1 : 2;
  const lights: PointLight[] = [];
  for (let i = 0; i < lightCount; i++) {
    let position: Vec3 = [room.width / 2, room.height - 0.3, room.depth / 2];
    for (let attempt = 0; attempt < 20; attempt++) {
      const y = room.height - range(rng, 0.35, 0.8);
      const candidate: Vec3 = [range(rng, 0.2, 0.8) * room.width, y, range(rng, 0.2, 0.8) * room.depth];
      if (!insideSolids(boxes, cylinders, candidate)) {
        position = candidate;
        break;
      }
    }
    const warmth = range(rng, -0.08, 0.08);
    lights.push({
      position,
      intensity: range(rng, 0.7, 1.1) / Math.sqrt(lightCount),
      color: [1 + warmth, 1, 1 - warmth],
    });
  }
  return {
    seed,
    room,
    floor,
    ceiling,
    walls,
    boxes,
    cylinders,
    items,
    lights,
    ambient: range(rng, 0.25, 0.4),
    falloff: range(rng, 0.02, 0.1),
    path,
  };
}

