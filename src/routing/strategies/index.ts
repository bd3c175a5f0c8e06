// Strategy by mode name. Each strategy lives in its own file.
import type { GatewayConfig } from "../../config/schema.js";
import type { Strategy } from "../strategy.js";
import type { Target } from "../target.js";
import { fallbackStrategy } from "./fallback.js";
import { singleStrategy } from "./single.js";

export function createStrategy(config: GatewayConfig, _targets: readonly Target[]): Strategy {
  switch (config.strategy.mode) {
    case "single":
      return singleStrategy;
    case "fallback":
      return fallbackStrategy;
    default:
      // The remaining modes arrive with the routing work; until then they route like fallback.
      return fallbackStrategy;
  }
}
