// observability.tracing.endpoint as the reference gateway reads it.
import { describe, expect, it } from "vitest";
import { otlpTracesUrl } from "../../src/config/otlp.js";

describe("otlpTracesUrl", () => {
  it("appends v1/traces to a base endpoint for http/protobuf, once", () => {
    expect(otlpTracesUrl("http://collector:4318", "http/protobuf")).toBe("http://collector:4318/v1/traces");
    expect(otlpTracesUrl("https://otel.example.com/otlp/", "http/protobuf")).toBe("https://otel.example.com/otlp/v1/traces");
    expect(otlpTracesUrl("https://otel.example.com/v1/traces", "http/protobuf")).toBe("https://otel.example.com/v1/traces");
  });

  it("reads a bare host:port as plaintext", () => {
    expect(otlpTracesUrl("collector:4318", "http/protobuf")).toBe("http://collector:4318/v1/traces");
    expect(otlpTracesUrl(" collector:4317 ", "grpc")).toBe("http://collector:4317");
  });

  it("gives grpc the origin only", () => {
    expect(otlpTracesUrl("https://otel.example.com:4317/ignored", "grpc")).toBe("https://otel.example.com:4317");
  });

  it("refuses what it cannot read", () => {
    expect(() => otlpTracesUrl("ftp://x:21", "grpc")).toThrow("the scheme must be http or https");
    expect(() => otlpTracesUrl("http://", "grpc")).toThrow();
  });
});
