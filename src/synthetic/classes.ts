// Semantic classes of the synthetic world. The id is the label value written to the ground-truth
// label images (mono8 / 8-bit PNG); it is also the logits channel of a model trained on the data.

export interface SyntheticClass {
  readonly id: number;
  readonly name: string;
  readonly color: readonly [number, number, number];
}

export const CLASS_FLOOR = 0;
export const CLASS_WALL = 1;
export const CLASS_CEILING = 2;
/** Low box furniture: tables (top and legs), beds, low boxes and sideboards (<= ~0.9 m). */
export const CLASS_FURNITURE = 3;
/** Tall boxes: cabinets, wardrobes, shelves (>= 1.2 m). */
export const CLASS_CABINET = 4;
/** Vertical cylinders: pillars (floor to ceiling) and bins. */
export const CLASS_CYLINDER = 5;

export const SYNTHETIC_CLASSES: readonly SyntheticClass[] = [
  { id: CLASS_FLOOR, name: "floor", color: [128, 64, 128] },
  { id: CLASS_WALL, name: "wall", color: [70, 70, 70] },
  { id: CLASS_CEILING, name: "ceiling", color: [220, 220, 0] },
  { id: CLASS_FURNITURE, name: "furniture", color: [190, 153, 153] },
  { id: CLASS_CABINET, name: "cabinet", color: [0, 130, 180] },
  { id: CLASS_CYLINDER, name: "cylinder", color: [220, 20, 60] },
];

/** The class table in the model bundle's labels.yaml format. */
export function labelsYaml(): string {
  const lines = [
    "# Synthetic world classes (src/synthetic/classes.ts). Class i is logits channel i; id is the label value.",
    "classes:",
    ...SYNTHETIC_CLASSES.map((c) => `  - { id: ${c.id}, name: ${c.name}, color: [${c.color.join(", ")}] }`),
  ];
  return lines.join("\n") + "\n";
}
