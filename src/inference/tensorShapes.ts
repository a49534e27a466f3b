// The shapes depthseg needs of a model's input and outputs, checked once at load (against the
// graph's declared shapes, or a dry run where those are symbolic) and on every frame (against
// what the run returned), with one set of rules for both.

/** A dimension as ONNX Runtime reports it: a size, or a symbolic name (known only when run). */
export type Dim = number | string;

/** One allowed shape: a fixed size, or ANY for a spatial dimension of whatever size. */
export const ANY = "any";
export type ShapePattern = readonly (number | typeof ANY)[];
type Pattern = ShapePattern;

export type ShapeCheck =
  | { readonly fits: true }
  | { readonly fits: false; readonly problem: string }
  /** Depends on a symbolic dimension (or the shape is not declared): only a run can tell. */
  | { readonly fits: "unknown" };

const FITS: ShapeCheck = { fits: true };
const UNKNOWN: ShapeCheck = { fits: "unknown" };

/** The image input: [1, 3, H, W]. */
export function imageInputShape(): readonly Pattern[] {
  return [[1, 3, ANY, ANY]];
}

/** A depth output: [1, 1, H, W] or [1, H, W]. */
export function depthOutputShape(): readonly Pattern[] {
  return [[1, 1, ANY, ANY], [1, ANY, ANY]];
}

/** Segmentation logits: [1, C, H, W], one channel per class. */
export function logitsOutputShape(classes: number): readonly Pattern[] {
  return [[1, classes, ANY, ANY]];
}

/** A router's domain logits: [1, C] or [1, C, H, W]. */
export function domainOutputShape(classes: number): readonly Pattern[] {
  return [[1, classes], [1, classes, ANY, ANY]];
}

/** Whether `dims` fits one of `patterns`; a problem says what it is and what it must be. */
export function checkShape(dims: readonly Dim[], patterns: readonly Pattern[]): ShapeCheck {
  // ONNX Runtime reports an undeclared shape as []; none of ours is a scalar.
  if (dims.length === 0) return UNKNOWN;
  let unknown = false;
  for (const pattern of patterns) {
    if (pattern.length !== dims.length) continue;
    let fits = true;
    let symbolic = false;
    for (const [i, want] of pattern.entries()) {
      const got = dims[i]!;
      if (want === ANY) continue;
      if (typeof got === "string") symbolic = true;
      else if (got !== want) fits = false;
    }
    if (fits && !symbolic) return FITS;
    if (fits) unknown = true;
  }
  if (unknown) return UNKNOWN;
  return { fits: false, problem: `has shape ${formatShape(dims)}, must be ${patterns.map(formatPattern).join(" or ")}` };
}

export function formatShape(dims: readonly Dim[]): string {
  return `[${dims.join(", ")}]`;
}

function formatPattern(pattern: Pattern): string {
  const spatial = ["H", "W"];
  const names = pattern.map((d) => (d === ANY ? spatial.shift() ?? "N" : String(d)));
  return `[${names.join(", ")}]`;
}
