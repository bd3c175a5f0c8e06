// GET /v1/models: the models the configured targets serve, as OpenAI's list shape.
import type { ModelInfo } from "../api/types.js";
import type { Runtime } from "./runtime.js";

const CREATED = Math.floor(Date.now() / 1000);

export function listModels(rt: Runtime): { object: "list"; data: ModelInfo[] } {
  const seen = new Set<string>();
  const data: ModelInfo[] = [];
  for (const target of rt.router.allTargets()) {
    for (const id of target.provider.models()) {
      if (seen.has(id)) continue;
      seen.add(id);
      data.push({ id, object: "model", created: CREATED, owned_by: target.provider.name });
    }
  }
  for (const alias of Object.keys(rt.config.aliases)) {
    if (!seen.has(alias)) data.push({ id: alias, object: "model", created: CREATED, owned_by: "alias" });
  }
  return { object: "list", data };
}
