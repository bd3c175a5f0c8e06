// JSON Schema → the OpenAPI-subset Schema that Gemini's FunctionDeclaration.parameters accepts.
// Gemini answers 400 to unknown keywords, so the ones OpenAI clients habitually send are removed.
import type { JsonObject, JsonValue } from "../../api/types.js";

const DROPPED = new Set(["additionalProperties", "$schema", "strict"]);
/** Keywords whose value is a map of name → schema (the names themselves are data, never dropped). */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
/** Keywords whose value is one schema, or (items, tuple form) a list of schemas. */
const SCHEMA_VALUES = new Set(["items", "additionalItems", "contains", "not", "if", "then", "else", "propertyNames", "unevaluatedItems"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function cleanAny(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(cleanAny);
  return isObject(v) ? cleanSchema(v) : v;
}

/** Returns a copy without the rejected keywords, at every depth. */
export function cleanSchema(schema: JsonObject): JsonObject {
  const entries: Array<[string, JsonValue]> = [];
  for (const key of Object.keys(schema)) {
    if (DROPPED.has(key)) continue;
    const value = schema[key] as JsonValue;
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      const map: Array<[string, JsonValue]> = [];
      for (const name of Object.keys(value)) map.push([name, cleanAny(value[name] as JsonValue)]);
      entries.push([key, Object.fromEntries(map) as JsonObject]);
    } else if ((SCHEMA_VALUES.has(key) || SCHEMA_LISTS.has(key)) && typeof value === "object" && value !== null) {
      entries.push([key, cleanAny(value)]);
    } else if (key === "type" && Array.isArray(value)) {
      // OpenAI strict mode spells optional fields ["string","null"]; Gemini wants type + nullable.
      const types = value.filter((t) => t !== "null");
      if (types.length === 1 && types[0] !== undefined) {
        entries.push(["type", types[0]]);
        if (types.length < value.length) entries.push(["nullable", true]);
      } else entries.push([key, value]);
    } else entries.push([key, value]);
  }
  // fromEntries defines own properties, so a property literally named "__proto__" stays data.
  return Object.fromEntries(entries) as JsonObject;
}

/**
 * Function parameters for Gemini, or undefined when the function takes none: Gemini rejects an
 * OBJECT schema with empty properties, and a declaration without parameters means "no arguments".
 */
export function functionParameters(params: JsonObject | undefined): JsonObject | undefined {
  if (!params) return undefined;
  const cleaned = cleanSchema(params);
  const props = cleaned.properties;
  if (cleaned.type === "object" && (!isObject(props) || Object.keys(props).length === 0)) return undefined;
  return cleaned;
}
