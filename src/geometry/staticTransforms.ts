// A tree of fixed transforms (what /tf_static carries), for placing a LiDAR's points in the
// camera's frame. Each edge maps child-frame coordinates into the parent frame
// (geometry_msgs/TransformStamped: header.frame_id is the parent), as tf2 defines it.

/** p_target = R(rotation)·p_source + translation; rotation a unit quaternion [x, y, z, w]. */
export interface RigidTransform {
  readonly translation: readonly [number, number, number];
  readonly rotation: readonly [number, number, number, number];
}

export const IDENTITY_TRANSFORM: RigidTransform = { translation: [0, 0, 0], rotation: [0, 0, 0, 1] };

type Quaternion = readonly [number, number, number, number];

function multiply(a: Quaternion, b: Quaternion): [number, number, number, number] {
  const [ax, ay, az, aw] = a;
  const [bx, by, bz, bw] = b;
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

function rotate(q: Quaternion, v: readonly [number, number, number]): [number, number, number] {
  const [x, y, z] = multiply(multiply(q, [v[0], v[1], v[2], 0]), [-q[0], -q[1], -q[2], q[3]]);
  return [x, y, z];
}

/** a∘b: first b, then a. */
export function compose(a: RigidTransform, b: RigidTransform): RigidTransform {
  const t = rotate(a.rotation, b.translation);
  return {
    translation: [t[0] + a.translation[0], t[1] + a.translation[1], t[2] + a.translation[2]],
    rotation: multiply(a.rotation, b.rotation),
  };
}

export function invert(a: RigidTransform): RigidTransform {
  const q: Quaternion = [-a.rotation[0], -a.rotation[1], -a.rotation[2], a.rotation[3]];
  const t = rotate(q, a.translation);
  return { translation: [-t[0], -t[1], -t[2]], rotation: q };
}

export class StaticTransforms {
  /** child → (parent, child-to-parent transform); a later message for a child replaces it, as tf2 does. */
  readonly #parents = new Map<string, { parent: string; transform: RigidTransform }>();

  get size(): number {
    return this.#parents.size;
  }

  set(parent: string, child: string, transform: RigidTransform): void {
    this.#parents.set(strip(child), { parent: strip(parent), transform });
  }

  /** The transform taking `source`-frame coordinates into `target`'s; undefined when the tree does not link them. */
  lookup(target: string, source: string): RigidTransform | undefined {
    const toRoot = (frame: string): Map<string, RigidTransform> => {
      // Each frame on the way up, with the transform from `frame` into it.
      const chain = new Map<string, RigidTransform>([[frame, IDENTITY_TRANSFORM]]);
      let current = frame;
      let acc = IDENTITY_TRANSFORM;
      for (let guard = 0; guard < 1000; guard++) {
        const edge = this.#parents.get(current);
        if (!edge || chain.has(edge.parent)) break;
        acc = compose(edge.transform, acc);
        current = edge.parent;
        chain.set(current, acc);
      }
      return chain;
    };
    const up = toRoot(strip(source));
    const down = toRoot(strip(target));
    for (const [frame, sourceToFrame] of up) {
      const targetToFrame = down.get(frame);
      if (targetToFrame) return compose(invert(targetToFrame), sourceToFrame);
    }
    return undefined;
  }
}

/** tf2 ignores a leading slash in frame ids. */
function strip(frame: string): string {
  return frame.startsWith("/") ? frame.slice(1) : frame;
}
