// A routing target at run time: a provider plus the policies configured for it.
import type { TargetConfig } from "../config/schema.js";
import type { Provider } from "../providers/types.js";
import { retryPolicy, type RetryPolicy } from "./retry.js";

export class Target {
  readonly key: string;
  readonly weight: number;
  readonly retry: RetryPolicy;
  private readonly modelMap: ReadonlyMap<string, string>;

  constructor(
    readonly provider: Provider,
    cfg: TargetConfig | undefined,
  ) {
    this.key = cfg?.virtual_key ?? provider.name;
    this.weight = cfg?.weight ?? 1;
    this.retry = retryPolicy(cfg?.retry);
    this.modelMap = new Map(Object.entries(cfg?.model_map ?? {}));
  }

  /** The model name this target is sent for a requested model. */
  upstreamModel(model: string): string {
    return this.modelMap.get(model) ?? model;
  }

  serves(model: string): boolean {
    return this.modelMap.has(model) || this.provider.serves(model);
  }
}
