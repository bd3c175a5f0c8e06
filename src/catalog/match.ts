// genai-prices describes which model ids an entry covers with a small match language
// (equals / starts_with / ends_with / contains / regex, combined with and / or), applied to the
// lower-cased id. Compiled once into predicates.
export type MatchLogic =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { and: MatchLogic[] }
  | { or: MatchLogic[] };

export type Matcher = (lowerId: string) => boolean;

const NEVER: Matcher = () => false;

export function compileMatch(m: MatchLogic): Matcher {
  if ("equals" in m) {
    const v = m.equals.toLowerCase();
    return (id) => id === v;
  }
  if ("starts_with" in m) {
    const v = m.starts_with.toLowerCase();
    return (id) => id.startsWith(v);
  }
  if ("ends_with" in m) {
    const v = m.ends_with.toLowerCase();
    return (id) => id.endsWith(v);
  }
  if ("contains" in m) {
    const v = m.contains.toLowerCase();
    return (id) => id.includes(v);
  }
  if ("regex" in m) {
    try {
      const re = new RegExp(m.regex, "i");
      return (id) => re.test(id);
    } catch {
      return NEVER;
    }
  }
  if ("and" in m) {
    const parts = m.and.map(compileMatch);
    return (id) => parts.every((p) => p(id));
  }
  if ("or" in m) {
    const parts = m.or.map(compileMatch);
    return (id) => parts.some((p) => p(id));
  }
  return NEVER;
}

/** Every exact id an entry names (its `equals` leaves), in the data's order. */
export function exactIds(m: MatchLogic, out: string[] = []): string[] {
  if ("equals" in m) out.push(m.equals);
  else if ("or" in m) for (const p of m.or) exactIds(p, out);
  return out;
}
