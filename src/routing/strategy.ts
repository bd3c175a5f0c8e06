// The strategy interface: given the targets that can serve this request, in config order,
// return the targets to attempt, in order. Only `fallback` returns more than one.
import type { IncomingHttpHeaders } from "node:http";
import type { StrategyMode } from "../config/schema.js";
import type { Operation } from "../providers/types.js";
import type { Target } from "./target.js";

export interface RouteRequest {
  /** The requested model after alias resolution. */
  readonly model: string;
  readonly operation: Operation;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readonly<Record<string, unknown>>;
  readonly keyId: string | undefined;
}

export interface Choice {
  readonly targets: Target[];
  /** A/B label or rule that decided, reported in a response header and the request log. */
  readonly variant?: string;
}

export interface Strategy {
  readonly mode: StrategyMode;
  choose(candidates: readonly Target[], req: RouteRequest): Choice;
}
