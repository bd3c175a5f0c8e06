// prompt_regex values are Go (RE2) regular expressions in the reference gateway. JavaScript reads
// most of that syntax the same way; these are the parts it reads differently or not at all, turned
// into their JavaScript spelling once, at load: leading flags `(?i)`, named groups `(?P<name>…)`,
// `\A` and `\z`, `\Q…\E` quoting and POSIX classes such as `[[:alpha:]]`, which JavaScript would
// accept and silently match as a set of characters.

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

/** RE2's U (ungreedy) has no JavaScript flag: such a pattern is left for the compile to reject. */
const LEADING_FLAGS = /^\(\?([ims]+)\)/;
const POSIX_CLASS = /\[:(\^?)([a-z]+):\]/g;
const QUOTED = /\\Q([\s\S]*?)(?:\\E|$)/g;
const ESCAPE = /[.*+?^${}()|[\]\\/-]/g;
const ESCAPED = /\\([\s\S])/g;

export function goRegExp(pattern: string): { source: string; flags: string } {
  let source = pattern;
  let flags = "";
  const lead = LEADING_FLAGS.exec(source);
  if (lead) {
    source = source.slice(lead[0].length);
    flags = [...new Set(lead[1] as string)].join("");
  }
  source = source
    .replace(QUOTED, (_m, text: string) => text.replace(ESCAPE, "\\$&"))
    .replace(/\(\?P</g, "(?<")
    // Escapes are read as units, so an escaped backslash before an A or a z stays literal.
    .replace(ESCAPED, (m, c: string) => (c === "A" ? "(?<![\\s\\S])" : c === "z" ? "(?![\\s\\S])" : m))
    .replace(POSIX_CLASS, (whole, negated: string, name: string) => {
      const chars = POSIX[name];
      if (chars === undefined) return whole;
      // A negated class inside brackets ([[:^digit:]]) has no range spelling: RE2's own escapes.
      if (negated) return name === "digit" ? "\\D" : name === "space" ? "\\S" : name === "word" ? "\\W" : whole;
      return chars;
    });
  return { source, flags };
}
