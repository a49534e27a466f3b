// Pure TypeScript ray casting of a synthetic scene: one primary ray per pixel centre, no
// anti-aliasing (labels stay exact). Per pixel it writes rgb8, metric depth along the optical
// z axis and the class id of the surface hit.
//
// The ray of pixel (u, v) is d = right*(u - cx)/fx + down*(v - cy)/fy + forward: its forward
// component is exactly 1, so the ray parameter t of a hit IS the hit's optical z (z-depth), not
// its distance from the camera. Shading: ambient + Lambertian point lights with distance falloff
// and hard shadows from furniture (softened to a fraction of the direct light).

import type { PinholeIntrinsics } from "../frame.js";
import type { CameraPose } from "./camera.js";
import { CLASS_CEILING, CLASS_FLOOR, CLASS_WALL } from "./classes.js";
import type { Scene } from "./scene.js";
import { hash2, patternMix, type Material } from "./textures.js";

export interface RenderTarget {
  readonly width: number;
  readonly height: number;
  /** rgb8, interleaved, row-major. */
  readonly rgb: Uint8Array;
  /** Metres along the optical z axis. */
  readonly depth: Float32Array;
  /** Class id per pixel (see SYNTHETIC_CLASSES). */
  readonly labels: Uint8Array;
}

export interface RenderOptions {
  /** Furniture casts shadows from the point lights (default true). */
  readonly shadows?: boolean;
  /** Amplitude of the per-pixel sensor noise in 8-bit levels (default 2; 0 = none). */
  readonly noise?: number;
  /** Seed of that noise (e.g. the frame index). */
  readonly noiseSeed?: number;
}

export function createRenderTarget(width: number, height: number): RenderTarget {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`render target size must be positive integers, got ${width}x${height}`);
  }
  return {
    width,
    height,
    rgb: new Uint8Array(width * height * 3),
    depth: new Float32Array(width * height),
    labels: new Uint8Array(width * height),
  };
}

/** Fraction of a light's direct contribution that still reaches a shadowed point. */
const SHADOW_KEEP = 0.2;
const EPS = 1e-9;
const SHADOW_BIAS = 1e-4;

// Hit kinds.
const ROOM = 0;
const BOX = 1;
const CYLINDER_SIDE = 2;
const CYLINDER_CAP = 3;

/** Renders `scene` seen from `pose` with pinhole `intr` into `target` (allocated when omitted). */
export function renderView(
  scene: Scene,
  pose: CameraPose,
  intr: PinholeIntrinsics,
  target: RenderTarget = createRenderTarget(intr.width, intr.height),
  options: RenderOptions = {},
): RenderTarget {
  const { width, height } = intr;
  if (target.width !== width || target.height !== height) {
    throw new RangeError(`render target is ${target.width}x${target.height}, intrinsics say ${width}x${height}`);
  }
  const shadows = options.shadows ?? true;
  const noise = options.noise ?? 2;
  const noiseSeed = (options.noiseSeed ?? 0) ^ Math.imul(scene.seed | 0, 0x2545f491);
  const { rgb, depth, labels } = target;
  const { fx, fy, cx, cy } = intr;
  const [px, py, pz] = pose.position;
  const [r0, r1, r2] = pose.right;
  const [d0, d1, d2] = pose.down;
  const [f0, f1, f2] = pose.forward;
  const W = scene.room.width;
  const H = scene.room.height;
  const D = scene.room.depth;

  // Per-frame constants of every primitive (the ray origin is the same for all pixels).
  const boxes = scene.boxes;
  const nb = boxes.length;
  const bc = new Float64Array(nb);
  const bs = new Float64Array(nb);
  const box0 = new Float64Array(nb); // camera in box-local x
  const boz = new Float64Array(nb); // camera in box-local z
  for (let i = 0; i < nb; i++) {
    const b = boxes[i]!;
    const c = Math.cos(b.yaw);
    const s = Math.sin(b.yaw);
    bc[i] = c;
    bs[i] = s;
    box0[i] = c * (px - b.x) + s * (pz - b.z);
    boz[i] = -s * (px - b.x) + c * (pz - b.z);
  }
  const cyls = scene.cylinders;
  const nc = cyls.length;
  const cox = new Float64Array(nc);
  const coz = new Float64Array(nc);
  const cC = new Float64Array(nc);
  for (let i = 0; i < nc; i++) {
    const c = cyls[i]!;
    cox[i] = px - c.x;
    coz[i] = pz - c.z;
    cC[i] = cox[i]! * cox[i]! + coz[i]! * coz[i]! - c.radius * c.radius;
  }
  // Screen rectangle of every primitive (from its bounding box's corners), so most pixels skip
  // most primitives. A primitive reaching behind the camera covers the whole image.
  const nPrim = nb + nc;
  const rect = new Int32Array(nPrim * 4);
  const corners = new Float64Array(24);
  for (let i = 0; i < nPrim; i++) {
    let n = 0;
    const corner = (x: number, y: number, z: number) => {
      corners[n++] = x;
      corners[n++] = y;
      corners[n++] = z;
    };
    if (i < nb) {
      const b = boxes[i]!;
      const c = bc[i]!;
      const s = bs[i]!;
      for (const sx of [-1, 1]) {
        for (const sz of [-1, 1]) {
          const x = b.x + c * sx * b.hx - s * sz * b.hz;
          const z = b.z + s * sx * b.hx + c * sz * b.hz;
          corner(x, b.y0, z);
          corner(x, b.y1, z);
        }
      }
    } else {
      const cyl = cyls[i - nb]!;
      for (const sx of [-1, 1]) {
        for (const sz of [-1, 1]) {
          corner(cyl.x + sx * cyl.radius, cyl.y0, cyl.z + sz * cyl.radius);
          corner(cyl.x + sx * cyl.radius, cyl.y1, cyl.z + sz * cyl.radius);
        }
      }
    }
    let u0 = Infinity;
    let u1 = -Infinity;
    let v0 = Infinity;
    let v1 = -Infinity;
    let behind = false;
    for (let k = 0; k < 24; k += 3) {
      const ox = corners[k]! - px;
      const oy = corners[k + 1]! - py;
      const oz = corners[k + 2]! - pz;
      const z = f0 * ox + f1 * oy + f2 * oz;
      if (z < 1e-3) {
        behind = true;
        break;
      }
      const u = cx + (fx * (r0 * ox + r1 * oy + r2 * oz)) / z;
      const v = cy + (fy * (d0 * ox + d1 * oy + d2 * oz)) / z;
      u0 = Math.min(u0, u);
      u1 = Math.max(u1, u);
      v0 = Math.min(v0, v);
      v1 = Math.max(v1, v);
    }
    const o = i * 4;
    if (behind) {
      rect[o] = 0;
      rect[o + 1] = width - 1;
      rect[o + 2] = 0;
      rect[o + 3] = height - 1;
    } else {
      // One pixel of margin against rounding; an empty rectangle (off screen) never matches.
      rect[o] = Math.max(-1, Math.floor(u0) - 1);
      rect[o + 1] = Math.min(width, Math.ceil(u1) + 1);
      rect[o + 2] = Math.max(-1, Math.floor(v0) - 1);
      rect[o + 3] = Math.min(height, Math.ceil(v1) + 1);
    }
  }

  const lights = scene.lights;
  const caster = shadows && lights.length > 0 ? new ShadowCaster(scene, bc, bs) : undefined;

  for (let v = 0; v < height; v++) {
    const bv = (v - cy) / fy;
    for (let u = 0; u < width; u++) {
      const au = (u - cx) / fx;
      const dx = r0 * au + d0 * bv + f0;
      const dy = r1 * au + d1 * bv + f1;
      const dz = r2 * au + d2 * bv + f2;

      // The room: the camera is inside, so the ray leaves through the nearest exit plane.
      let tBest = Infinity;
      let kind = ROOM;
      let index = 0;
      let face = 0;
      if (dx > EPS) {
        tBest = (W - px) / dx;
        face = 1;
      } else if (dx < -EPS) {
        tBest = -px / dx;
        face = 0;
      }
      if (dy > EPS) {
        const t = (H - py) / dy;
        if (t < tBest) {
          tBest = t;
          face = 3;
        }
      } else if (dy < -EPS) {
        const t = -py / dy;
        if (t < tBest) {
          tBest = t;
          face = 2;
        }
      }
      if (dz > EPS) {
        const t = (D - pz) / dz;
        if (t < tBest) {
          tBest = t;
          face = 5;
        }
      } else if (dz < -EPS) {
        const t = -pz / dz;
        if (t < tBest) {
          tBest = t;
          face = 4;
        }
      }

      for (let i = 0; i < nb; i++) {
        const o = i * 4;
        if (u < rect[o]! || u > rect[o + 1]! || v < rect[o + 2]! || v > rect[o + 3]!) continue;
        const b = boxes[i]!;
        const c = bc[i]!;
        const s = bs[i]!;
        const ldx = c * dx + s * dz;
        const ldz = -s * dx + c * dz;
        const ox = box0[i]!;
        const oz = boz[i]!;
        let tNear = -Infinity;
        let tFar = Infinity;
        let f = -1;
        if (ldx > EPS || ldx < -EPS) {
          const t1 = (-b.hx - ox) / ldx;
          const t2 = (b.hx - ox) / ldx;
          if (t1 < t2) {
            tNear = t1;
            tFar = t2;
            f = 0;
          } else {
            tNear = t2;
            tFar = t1;
            f = 1;
          }
        } else if (ox < -b.hx || ox > b.hx) continue;
        if (dy > EPS || dy < -EPS) {
          const t1 = (b.y0 - py) / dy;
          const t2 = (b.y1 - py) / dy;
          const near = t1 < t2 ? t1 : t2;
          const far = t1 < t2 ? t2 : t1;
          if (near > tNear) {
            tNear = near;
            f = t1 < t2 ? 2 : 3;
          }
          if (far < tFar) tFar = far;
        } else if (py < b.y0 || py > b.y1) continue;
        if (ldz > EPS || ldz < -EPS) {
          const t1 = (-b.hz - oz) / ldz;
          const t2 = (b.hz - oz) / ldz;
          const near = t1 < t2 ? t1 : t2;
          const far = t1 < t2 ? t2 : t1;
          if (near > tNear) {
            tNear = near;
            f = t1 < t2 ? 4 : 5;
          }
          if (far < tFar) tFar = far;
        } else if (oz < -b.hz || oz > b.hz) continue;
        if (tNear <= tFar && tNear > EPS && tNear < tBest) {
          tBest = tNear;
          kind = BOX;
          index = i;
          face = f;
        }
      }

      for (let i = 0; i < nc; i++) {
        const o = (nb + i) * 4;
        if (u < rect[o]! || u > rect[o + 1]! || v < rect[o + 2]! || v > rect[o + 3]!) continue;
        const cyl = cyls[i]!;
        const ox = cox[i]!;
        const oz = coz[i]!;
        const A = dx * dx + dz * dz;
        if (A > EPS) {
          const B = 2 * (ox * dx + oz * dz);
          const disc = B * B - 4 * A * cC[i]!;
          if (disc >= 0) {
            const t = (-B - Math.sqrt(disc)) / (2 * A);
            if (t > EPS && t < tBest) {
              const y = py + t * dy;
              if (y >= cyl.y0 && y <= cyl.y1) {
                tBest = t;
                kind = CYLINDER_SIDE;
                index = i;
              }
            }
          }
        }
        if (py > cyl.y1 && dy < -EPS) {
          const t = (cyl.y1 - py) / dy;
          if (t < tBest) {
            const hx = ox + t * dx;
            const hz = oz + t * dz;
            if (hx * hx + hz * hz <= cyl.radius * cyl.radius) {
              tBest = t;
              kind = CYLINDER_CAP;
              index = i;
            }
          }
        }
      }

      // Surface point, normal, texture coordinates, material and class of the hit.
      const hx = px + tBest * dx;
      const hy = py + tBest * dy;
      const hz = pz + tBest * dz;
      let nx = 0;
      let ny = 0;
      let nz = 0;
      let ts = 0;
      let tt = 0;
      let mat: Material;
      let classId: number;
      if (kind === ROOM) {
        switch (face) {
          case 0:
            nx = 1;
            ts = hz;
            tt = hy;
            mat = scene.walls[0];
            classId = CLASS_WALL;
            break;
          case 1:
            nx = -1;
            ts = hz;
            tt = hy;
            mat = scene.walls[1];
            classId = CLASS_WALL;
            break;
          case 2:
            ny = 1;
            ts = hx;
            tt = hz;
            mat = scene.floor;
            classId = CLASS_FLOOR;
            break;
          case 3:
            ny = -1;
            ts = hx;
            tt = hz;
            mat = scene.ceiling;
            classId = CLASS_CEILING;
            break;
          case 4:
            nz = 1;
            ts = hx;
            tt = hy;
            mat = scene.walls[2];
            classId = CLASS_WALL;
            break;
          default:
            nz = -1;
            ts = hx;
            tt = hy;
            mat = scene.walls[3];
            classId = CLASS_WALL;
        }
      } else if (kind === BOX) {
        const b = boxes[index]!;
        const c = bc[index]!;
        const s = bs[index]!;
        const lx = c * (hx - b.x) + s * (hz - b.z);
        const lz = -s * (hx - b.x) + c * (hz - b.z);
        mat = b.material;
        classId = b.classId;
        switch (face) {
          case 0:
          case 1: {
            const sign = face === 0 ? -1 : 1;
            nx = sign * c;
            nz = sign * s;
            ts = lz + b.x;
            tt = hy;
            break;
          }
          case 2:
          case 3:
            ny = face === 2 ? -1 : 1;
            ts = lx + b.x;
            tt = lz + b.z;
            break;
          default: {
            const sign = face === 4 ? -1 : 1;
            nx = -sign * s;
            nz = sign * c;
            ts = lx + b.z;
            tt = hy;
          }
        }
      } else {
        const cyl = cyls[index]!;
        mat = cyl.material;
        classId = cyl.classId;
        if (kind === CYLINDER_SIDE) {
          nx = (hx - cyl.x) / cyl.radius;
          nz = (hz - cyl.z) / cyl.radius;
          ts = Math.atan2(nz, nx) * cyl.radius;
          tt = hy;
        } else {
          ny = 1;
          ts = hx;
          tt = hz;
        }
      }

      // Lighting: ambient + Lambertian point lights with falloff and furniture shadows.
      let er = scene.ambient;
      let eg = er;
      let eb = er;
      for (let li = 0; li < lights.length; li++) {
        const light = lights[li]!;
        const lx = light.position[0] - hx;
        const ly = light.position[1] - hy;
        const lz = light.position[2] - hz;
        const ndl = nx * lx + ny * ly + nz * lz;
        if (ndl <= 0) continue;
        const d2 = lx * lx + ly * ly + lz * lz;
        let e = (light.intensity * ndl) / Math.sqrt(d2) / (1 + scene.falloff * d2);
        if (caster !== undefined && caster.occluded(li, -lx, -ly, -lz, kind === BOX ? index : -1)) {
          e *= SHADOW_KEEP;
        }
        er += e * light.color[0];
        eg += e * light.color[1];
        eb += e * light.color[2];
      }

      const mc = Math.cos(mat.angle) / mat.scale;
      const ms = Math.sin(mat.angle) / mat.scale;
      const m = patternMix(mat, mc * ts + ms * tt, mc * tt - ms * ts);
      const a = mat.a;
      const bcol = mat.b;
      const p = v * width + u;
      const jitter = noise > 0 ? (hash2(u, v, noiseSeed) - 0.5) * 2 * noise : 0;
      rgb[p * 3] = clamp255((a[0] + (bcol[0] - a[0]) * m) * er * 255 + jitter);
      rgb[p * 3 + 1] = clamp255((a[1] + (bcol[1] - a[1]) * m) * eg * 255 + jitter);
      rgb[p * 3 + 2] = clamp255((a[2] + (bcol[2] - a[2]) * m) * eb * 255 + jitter);
      depth[p] = tBest;
      labels[p] = classId;
    }
  }
  return target;
}

function clamp255(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
}

/**
 * Shadow rays, cast from each light towards the shaded point, so that the ray origin (the light)
 * is the same for every pixel and its box-local coordinates are computed once per frame.
 */
class ShadowCaster {
  readonly #scene: Scene;
  readonly #c: Float64Array;
  readonly #s: Float64Array;
  /** Per light, per box: the light in box-local x and z. */
  readonly #lx: Float64Array;
  readonly #lz: Float64Array;
  /** Per light, per cylinder: the light relative to the axis, and C of the quadratic. */
  readonly #cx: Float64Array;
  readonly #cz: Float64Array;
  readonly #cC: Float64Array;
  /** Per light, per primitive (boxes, then cylinders): ground-plane offset of the primitive's centre from the light. */
  readonly #gx: Float64Array;
  readonly #gz: Float64Array;
  /** Per primitive: squared radius of its ground footprint's bounding circle. */
  readonly #r2: Float64Array;

  constructor(scene: Scene, c: Float64Array, s: Float64Array) {
    this.#scene = scene;
    this.#c = c;
    this.#s = s;
    const { boxes, cylinders, lights } = scene;
    this.#lx = new Float64Array(lights.length * boxes.length);
    this.#lz = new Float64Array(lights.length * boxes.length);
    this.#cx = new Float64Array(lights.length * cylinders.length);
    this.#cz = new Float64Array(lights.length * cylinders.length);
    this.#cC = new Float64Array(lights.length * cylinders.length);
    const nPrim = boxes.length + cylinders.length;
    this.#gx = new Float64Array(lights.length * nPrim);
    this.#gz = new Float64Array(lights.length * nPrim);
    this.#r2 = new Float64Array(nPrim);
    boxes.forEach((b, i) => (this.#r2[i] = b.hx * b.hx + b.hz * b.hz));
    cylinders.forEach((cyl, i) => (this.#r2[boxes.length + i] = cyl.radius * cyl.radius));
    lights.forEach((light, li) => {
      const [x, , z] = light.position;
      [...boxes, ...cylinders].forEach((prim, i) => {
        this.#gx[li * nPrim + i] = prim.x - x;
        this.#gz[li * nPrim + i] = prim.z - z;
      });
      boxes.forEach((b, i) => {
        const k = li * boxes.length + i;
        this.#lx[k] = c[i]! * (x - b.x) + s[i]! * (z - b.z);
        this.#lz[k] = -s[i]! * (x - b.x) + c[i]! * (z - b.z);
      });
      cylinders.forEach((cyl, i) => {
        const k = li * cylinders.length + i;
        const ox = x - cyl.x;
        const oz = z - cyl.z;
        this.#cx[k] = ox;
        this.#cz[k] = oz;
        this.#cC[k] = ox * ox + oz * oz - cyl.radius * cyl.radius;
      });
    });
  }

  /**
   * True when a box or cylinder blocks the segment from light `li` to the light plus
   * (dx, dy, dz), short of its end. `skipBox` is the box the shaded point lies on (convex: its own
   * faces cannot shadow it), or -1.
   */
  occluded(li: number, dx: number, dy: number, dz: number, skipBox: number): boolean {
    const { boxes, cylinders, lights } = this.#scene;
    const oy = lights[li]!.position[1];
    const end = 1 - SHADOW_BIAS;
    const nb = boxes.length;
    const nPrim = nb + cylinders.length;
    // Ground-plane prefilter: skip primitives whose bounding circle the segment's (x, z) shadow misses.
    const gg = dx * dx + dz * dz;
    const inv = gg > EPS ? 1 / gg : 0;
    const g0 = li * nPrim;
    for (let i = 0; i < nb; i++) {
      if (i === skipBox) continue;
      {
        const gx = this.#gx[g0 + i]!;
        const gz = this.#gz[g0 + i]!;
        let t = (gx * dx + gz * dz) * inv;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = gx - t * dx;
        const ez = gz - t * dz;
        if (ex * ex + ez * ez > this.#r2[i]!) continue;
      }
      const b = boxes[i]!;
      const c = this.#c[i]!;
      const s = this.#s[i]!;
      const ox = this.#lx[li * nb + i]!;
      const oz = this.#lz[li * nb + i]!;
      const ldx = c * dx + s * dz;
      let tNear = 0;
      let tFar = end;
      if (ldx > EPS || ldx < -EPS) {
        const t1 = (-b.hx - ox) / ldx;
        const t2 = (b.hx - ox) / ldx;
        if (t1 < t2) {
          if (t1 > tNear) tNear = t1;
          if (t2 < tFar) tFar = t2;
        } else {
          if (t2 > tNear) tNear = t2;
          if (t1 < tFar) tFar = t1;
        }
        if (tNear > tFar) continue;
      } else if (ox < -b.hx || ox > b.hx) continue;
      if (dy > EPS || dy < -EPS) {
        const t1 = (b.y0 - oy) / dy;
        const t2 = (b.y1 - oy) / dy;
        if (t1 < t2) {
          if (t1 > tNear) tNear = t1;
          if (t2 < tFar) tFar = t2;
        } else {
          if (t2 > tNear) tNear = t2;
          if (t1 < tFar) tFar = t1;
        }
        if (tNear > tFar) continue;
      } else if (oy < b.y0 || oy > b.y1) continue;
      const ldz = -s * dx + c * dz;
      if (ldz > EPS || ldz < -EPS) {
        const t1 = (-b.hz - oz) / ldz;
        const t2 = (b.hz - oz) / ldz;
        if (t1 < t2) {
          if (t1 > tNear) tNear = t1;
          if (t2 < tFar) tFar = t2;
        } else {
          if (t2 > tNear) tNear = t2;
          if (t1 < tFar) tFar = t1;
        }
      } else if (oz < -b.hz || oz > b.hz) continue;
      if (tNear <= tFar) return true;
    }
    const nc = cylinders.length;
    for (let i = 0; i < nc; i++) {
      {
        const gx = this.#gx[g0 + nb + i]!;
        const gz = this.#gz[g0 + nb + i]!;
        let t = (gx * dx + gz * dz) * inv;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = gx - t * dx;
        const ez = gz - t * dz;
        if (ex * ex + ez * ez > this.#r2[nb + i]!) continue;
      }
      const cyl = cylinders[i]!;
      const k = li * nc + i;
      const A = dx * dx + dz * dz;
      let tNear = 0;
      let tFar = end;
      if (A > EPS) {
        const B = 2 * (this.#cx[k]! * dx + this.#cz[k]! * dz);
        const disc = B * B - 4 * A * this.#cC[k]!;
        if (disc < 0) continue;
        const sq = Math.sqrt(disc);
        const t0 = (-B - sq) / (2 * A);
        const t1 = (-B + sq) / (2 * A);
        if (t0 > tNear) tNear = t0;
        if (t1 < tFar) tFar = t1;
        if (tNear > tFar) continue;
      } else if (this.#cC[k]! > 0) continue;
      if (dy > EPS || dy < -EPS) {
        const t1 = (cyl.y0 - oy) / dy;
        const t2 = (cyl.y1 - oy) / dy;
        if (t1 < t2) {
          if (t1 > tNear) tNear = t1;
          if (t2 < tFar) tFar = t2;
        } else {
          if (t2 > tNear) tNear = t2;
          if (t1 < tFar) tFar = t1;
        }
      } else if (oy < cyl.y0 || oy > cyl.y1) continue;
      if (tNear <= tFar) return true;
    }
    return false;
  }
}
