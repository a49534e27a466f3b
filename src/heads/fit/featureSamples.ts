// Labelled pixels → training samples for a head on a [C, h, w] feature map: each feature cell
// takes the label under its centre (the cell grid spans the whole image, as the model input is
// the whole image resized), cells are drawn class-balanced, and their feature vectors gathered.
// Pure: typed arrays in, typed arrays out.

const ID_SPACE = 65536;
/** classIndexTable entries: the id is the ignore index (or otherwise unscored). */
export const IGNORED = -1;
/** classIndexTable entries: the id is neither a class nor ignored. */
export const UNKNOWN = -2;

/** For every label id 0..65535: its class index (position in `classIds`), IGNORED or UNKNOWN. */
export function classIndexTable(classIds: readonly number[], ignoreIndex: number | undefined): Int32Array {
  const table = new Int32Array(ID_SPACE).fill(UNKNOWN);
  if (ignoreIndex !== undefined) table[ignoreIndex] = IGNORED;
  classIds.forEach((id, k) => {
    table[id] = k;
  });
  return table;
}

/** Label ids of `labels` the table calls UNKNOWN, with their pixel counts. */
export function unknownIds(labels: Uint16Array, table: Int32Array): Map<number, number> {
  const found = new Map<number, number>();
  for (const id of labels) if (table[id] === UNKNOWN) found.set(id, (found.get(id) ?? 0) + 1);
  return found;
}

/** Class index under each cell centre of a gridWidth × gridHeight grid over the image (IGNORED where so). */
export function classesOnGrid(
  labels: Uint16Array,
  width: number,
  height: number,
  gridWidth: number,
  gridHeight: number,
  table: Int32Array,
): Int32Array {
  if (labels.length !== width * height) throw new RangeError(`classesOnGrid: ${labels.length} labels for ${width}x${height}`);
  const out = new Int32Array(gridWidth * gridHeight);
  for (let gy = 0; gy < gridHeight; gy++) {
    const y = Math.min(height - 1, Math.floor(((gy + 0.5) * height) / gridHeight));
    for (let gx = 0; gx < gridWidth; gx++) {
      const x = Math.min(width - 1, Math.floor(((gx + 0.5) * width) / gridWidth));
      const k = table[labels[y * width + x]!]!;
      out[gy * gridWidth + gx] = k < 0 ? IGNORED : k;
    }
  }
  return out;
}

/** Up to `perClass` cells of each class, drawn without replacement (seeded), in increasing order. */
export function sampleCellsPerClass(cellClasses: Int32Array, classes: number, perClass: number, rng: () => number): Int32Array {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  cellClasses.forEach((k, i) => {
    if (k >= 0) byClass[k]!.push(i);
  });
  const chosen: number[] = [];
  for (const cells of byClass) {
    // Partial Fisher-Yates: the first `take` entries become a uniform sample.
    const take = Math.min(perClass, cells.length);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(rng() * (cells.length - i));
      const t = cells[i]!;
      cells[i] = cells[j]!;
      cells[j] = t;
      chosen.push(cells[i]!);
    }
  }
  return Int32Array.from(chosen).sort();
}

/** Feature vectors (cells.length × C, row-major) of `cells` from a planar [C, cellCount] map. */
export function gatherCells(features: Float32Array, channels: number, cellCount: number, cells: Int32Array): Float32Array {
  if (features.length !== channels * cellCount) throw new RangeError(`gatherCells: ${features.length} floats for ${channels}×${cellCount}`);
  const out = new Float32Array(cells.length * channels);
  cells.forEach((cell, i) => {
    for (let c = 0; c < channels; c++) out[i * channels + c] = features[c * cellCount + cell]!;
  });
  return out;
}
