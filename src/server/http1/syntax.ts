// HTTP/1.1 syntax checks shared by the fast lane's request parser and the upstream client's
// response parser: character-table loops instead of a regex test and a regex replace per header,
// which mattered for clients and providers that send a dozen headers or more.

const TOKEN_CHARS = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[c.charCodeAt(0)] = 1;

/** Whether s[from, to) is a non-empty token (a header name, a method). */
export function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * s[from, to) without leading and trailing spaces and tabs, HTTP's optional whitespace. Not
 * String#trim: it also strips NBSP and other Unicode spaces, which node:http and llhttp keep.
 */
export function sliceOws(s: string, from: number, to: number): string {
  while (from < to) {
    const c = s.charCodeAt(from);
    if (c !== 32 && c !== 9) break;
    from++;
  }
  while (to > from) {
    const c = s.charCodeAt(to - 1);
    if (c !== 32 && c !== 9) break;
    to--;
  }
  return s.slice(from, to);
}
