// The README's parameter table, generated from the schema so documentation cannot drift.

import { PARAMETER_SPECS, type ParameterSpec } from "./parameters.js";

export function parameterTableMarkdown(): string {
  const rows = PARAMETER_SPECS.map(
    (spec) =>
      `| \`${spec.name}\` | ${spec.type} | ${formatDefault(spec)} | ${formatRange(spec)} | ${spec.dynamic ? "yes" : "no"} | ${spec.description} |`,
  );
  return [
    "| parameter | type | default | range / choices | run-time change | meaning |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

function formatDefault(spec: ParameterSpec): string {
  if (spec.type === "string_array") return `\`[${spec.default.join(", ")}]\``;
  if (spec.type === "string") return spec.default === "" ? '`""`' : `\`${spec.default}\``;
  return `\`${spec.default}\``;
}

function formatRange(spec: ParameterSpec): string {
  switch (spec.type) {
    case "integer":
    case "double":
      return `${spec.min} … ${spec.max}`;
    case "string":
    case "string_array":
      return spec.choices ? spec.choices.join(", ") : "";
    case "bool":
      return "";
  }
}
