import * as z from "zod";

/** Any zod schema; the walker only looks at objects, arrays, unions and wrappers. */
export type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable)
      current = current.unwrap() as AnySchema;
    else if (current instanceof z.ZodDefault) current = current.unwrap() as AnySchema;
    else return current;
  }
}

/** The keys an object schema found at `path` allows (all object branches of unions together). */
export function allowedKeysAt(schema: AnySchema, path: ReadonlyArray<string | number>): string[] {
  const keys = new Set<string>();
  const walk = (node: AnySchema, rest: ReadonlyArray<string | number>): void => {
    const current = unwrap(node);
    if (current instanceof z.ZodUnion) {
      for (const option of current.options) walk(option as AnySchema, rest);
      return;
    }
    if (rest.length === 0) {
      if (current instanceof z.ZodObject) for (const key of Object.keys(current.shape)) keys.add(key);
      return;
    }
    const [head, ...tail] = rest;
    if (current instanceof z.ZodObject && typeof head === "string") {
      const child = (current.shape as Record<string, AnySchema>)[head];
      if (child) walk(child, tail);
    } else if (current instanceof z.ZodArray && typeof head === "number") {
      walk(current.element as AnySchema, tail);
    }
  };
  walk(schema, path);
  return [...keys];
}
