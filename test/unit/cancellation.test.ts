// Request cancellation (src/server/cancellation.ts): listeners run once on abort, can be removed,
// and a standard AbortSignal made on demand follows the cancellation before and after it happens.
import { describe, expect, it } from "vitest";
import { Cancellation } from "../../src/server/cancellation.js";

describe("Cancellation", () => {
  it("runs each listener once, with the reason set, and not the removed ones", () => {
    const c = new Cancellation();
    const seen: string[] = [];
    const a = (): void => void seen.push(`a:${String(c.reason)}`);
    const b = (): void => void seen.push("b");
    c.onAbort(a);
    c.onAbort(b);
    c.offAbort(b);
    c.abort("deadline");
    c.abort("again");
    expect(seen).toEqual(["a:deadline"]);
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe("deadline");
  });

  it("gives a standard AbortSignal that follows it, made before or after the abort", () => {
    const early = new Cancellation();
    const signal = early.signal;
    let fired = false;
    signal.addEventListener("abort", () => (fired = true));
    expect(signal.aborted).toBe(false);
    early.abort(new Error("client gone"));
    expect(fired).toBe(true);
    expect((signal.reason as Error).message).toBe("client gone");

    const late = new Cancellation();
    late.abort("timeout");
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe("timeout");
  });
});
