// Checked reads of parsed YAML values. Every failure is a FatalError naming the file and the
// field path (e.g. `model.yaml: input.size[1]: ...`) so a bad bundle is fixed in one look.

import { parse } from "yaml";
import { FatalError } from "../errors.js";

export type YamlMap = Readonly<Record<string, unknown>>;

export class Fields {
  constructor(readonly source: string) {}

  /** Parses YAML text; syntax errors and duplicate keys become FatalErrors naming the file. */
  parseYaml(text: string): unknown {
    try {
      return parse(text);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new FatalError(`${this.source}: invalid YAML: ${detail}`);
    }
  }

  fail(path: string, message: string): never {
    throw new FatalError(path ? `${this.source}: ${path}: ${message}` : `${this.source}: ${message}`);
  }

  map(value: unknown, path: string): YamlMap {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `must be a mapping, got ${describe(value)}`);
    }
    return value as YamlMap;
  }

  /** Rejects keys outside `allowed`, which catches typos like `multipleOf`. */
  onlyKeys(map: YamlMap, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(map)) {
      if (!allowed.includes(key)) {
        this.fail(join(path, key), `unknown field (expected one of ${allowed.join(", ")})`);
      }
    }
  }

  required(map: YamlMap, path: string, key: string): unknown {
    const value = map[key];
    if (value === undefined || value === null) this.fail(join(path, key), "is required");
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string" || value.trim() === "") {
      this.fail(path, `must be a non-empty string, got ${describe(value)}`);
    }
    return value;
  }

  number(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.fail(path, `must be a finite number, got ${describe(value)}`);
    }
    return value;
  }

  positive(value: unknown, path: string): number {
    const n = this.number(value, path);
    if (n <= 0) this.fail(path, `must be > 0, got ${n}`);
    return n;
  }

  integer(value: unknown, path: string, min: number, max: number): number {
    const n = this.number(value, path);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(path, `must be an integer in ${min}..${max}, got ${n}`);
    }
    return n;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], what: string): T {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.fail(path, `unknown ${what} ${describe(value)} (expected ${allowed.join(" | ")})`);
    }
    return value as T;
  }

  list(value: unknown, path: string): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, `must be a list, got ${describe(value)}`);
    return value;
  }

  /** Exactly `length` items, each checked by `item`. */
  tuple<T>(value: unknown, path: string, length: number, item: (v: unknown, p: string) => T): T[] {
    const items = this.list(value, path);
    if (items.length !== length) this.fail(path, `must have ${length} items, got ${items.length}`);
    return items.map((v, i) => item(v, `${path}[${i}]`));
  }
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}
