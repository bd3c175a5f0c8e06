// Replicate's predictions API (https://replicate.com/docs/reference/http): the prediction object.
export type PredictionStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";

export interface Prediction {
  id?: string;
  model?: string;
  version?: string;
  status?: PredictionStatus | string;
  input?: Record<string, unknown>;
  /** Language models return an array of string tokens to join; some return one string. */
  output?: unknown;
  error?: unknown;
  created_at?: string;
  metrics?: { input_token_count?: number; output_token_count?: number; predict_time?: number };
  urls?: { get?: string; cancel?: string; stream?: string };
}

export const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "canceled", "aborted"]);
