// prompt_regex values are Go (RE2) regular expressions in the reference gateway. JavaScript reads
// most of that syntax the same way; this turns what it reads differently into its JavaScript
// spelling once, at load, and refuses what it cannot translate (so `ferrogw validate` names it)
// rather than letting a rule load and silently match something else:
// - leading flags `(?i)` `(?m)` `(?s)`; named groups `(?P<name>…)`; `\A` and `\z`; `\Q…\E`;
// - POSIX classes inside brackets, `[[:alpha:]]` (JavaScript reads them as a set of characters);
// - refused: RE2's `(?U)` and other inline flags, `\p` / `\P` / `\x{…}`, and the lookarounds and
//   backreferences RE2 itself rejects.

/** RE2's ASCII POSIX classes, as JavaScript character-class contents. */
const POSIX: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};
/** Negated classes with a JavaScript escape that means the same inside brackets. */
const NEGATED: Readonly<Record<string, string>> = { digit: "\\D", space: "\\S", word: "\\W" };

const LEADING_FLAGS = /^\(\?([ims]+)\)/;
const POSIX_CLASS = /^\[:(\^?)([a-z]+):\]/;
const SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

class Unsupported extends Error {}

export function goRegExp(pattern: string): { source: string; flags: string } {
  let rest = pattern;
  let flags = "";
  const lead = LEADING_FLAGS.exec(rest);
  if (lead) {
    rest = rest.slice(lead[0].length);
    flags = [...new Set(lead[1] as string)].join("");
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < rest.length; ) {
    const c = rest[i] as string;
    if (c === "\\") {
      const next = rest[i + 1];
      if (next === undefined) throw new Unsupported("trailing backslash");
      if (next === "Q" && !inClass) {
        const end = rest.indexOf("\\E", i + 2);
        const text = rest.slice(i + 2, end < 0 ? rest.length : end);
        out += text.replace(SPECIAL, "\\$&");
        i = end < 0 ? rest.length : end + 2;
        continue;
      }
      if (next === "A" && !inClass) out += "(?<![\\s\\S])";
      else if (next === "z" && !inClass) out += "(?![\\s\\S])";
      else if (next === "p" || next === "P" || (next === "x" && rest[i + 2] === "{")) throw new Unsupported(`\\${next} (Unicode classes and \\x{…}) is not supported`);
      else if (next >= "1" && next <= "9" && !inClass) throw new Unsupported("backreferences are not RE2 syntax");
      else out += c + next;
      i += 2;
      continue;
    }
    if (inClass) {
      const posix = c === "[" ? POSIX_CLASS.exec(rest.slice(i)) : null;
      if (posix) {
        const name = posix[2] as string;
        const chars = posix[1] ? NEGATED[name] : POSIX[name];
        if (chars === undefined) throw new Unsupported(`[:${posix[1]}${name}:] has no JavaScript equivalent here`);
        out += chars;
        i += posix[0].length;
        continue;
      }
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      i++;
      // `[]…]` and `[^]…]`: in RE2 a leading ] is a member; JavaScript needs it escaped.
      if (rest[i] === "^") out += rest[i++];
      if (rest[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && rest[i + 1] === "?") {
      const head = rest.slice(i, i + 4);
      if (head.startsWith("(?P<")) {
        out += "(?<";
        i += 4;
        continue;
      }
      if (head.startsWith("(?=") || head.startsWith("(?!") || head.startsWith("(?<=") || head.startsWith("(?<!")) throw new Unsupported("lookarounds are not RE2 syntax");
      if (!head.startsWith("(?:") && !head.startsWith("(?<")) throw new Unsupported(`${head}… is not supported (only (?i), (?m) and (?s) at the very start)`);
    }
    out += c;
    i++;
  }
  return { source: out, flags };
}
