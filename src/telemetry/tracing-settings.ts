/**
 * Whether and how the entry point turns tracing on, from the standard OpenTelemetry
 * variables. Pure: it reads the env object it is given and loads no SDK code, so with
 * tracing off nothing of the SDK or the exporter is ever imported.
 *
 * On when OTEL_TRACES_EXPORTER names `otlp`, or when it is unset and an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Off with
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. A value the gateway cannot honour
 * throws ConfigError naming the variable (the CLI exits 2).
 */
import { ConfigError } from "../errors.js";

export type OtlpProtocol = "http/protobuf" | "http/json";

export type TracingSettings = { enabled: false; reason: string } | { enabled: true; protocol: OtlpProtocol };

const samplers = new Set([
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
]);

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function checkUrl(env: Env, name: string): void {
  const raw = value(env, name);
  if (raw === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError(`invalid environment: ${name}: must be an http(s) URL (got "${raw}")`);
  }
}

export function readTracingSettings(env: Env): TracingSettings {
  if (value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { enabled: false, reason: "OTEL_SDK_DISABLED=true" };
  const exporters = (value(env, "OTEL_TRACES_EXPORTER") ?? "").split(",").map((name) => name.trim()).filter(Boolean);
  for (const name of exporters) {
    if (name !== "otlp" && name !== "none") {
      throw new ConfigError(`invalid environment: OTEL_TRACES_EXPORTER: "${name}" is not supported (use otlp or none)`);
    }
  }
  if (exporters.includes("none")) return { enabled: false, reason: "OTEL_TRACES_EXPORTER=none" };
  const endpoint = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (!exporters.includes("otlp") && endpoint === undefined) return { enabled: false, reason: "no OTLP endpoint or exporter set" };

  checkUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  checkUrl(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const protocolName = value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = value(env, protocolName) ?? "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new ConfigError(`invalid environment: ${protocolName}: "${protocol}" is not supported (use http/protobuf or http/json)`);
  }
  const sampler = value(env, "OTEL_TRACES_SAMPLER");
  if (sampler !== undefined && !samplers.has(sampler)) {
    throw new ConfigError(`invalid environment: OTEL_TRACES_SAMPLER: "${sampler}" is not supported (use one of ${[...samplers].join(", ")})`);
  }
  const ratio = value(env, "OTEL_TRACES_SAMPLER_ARG");
  if (sampler?.endsWith("traceidratio") && ratio !== undefined && !(Number(ratio) >= 0 && Number(ratio) <= 1)) {
    throw new ConfigError(`invalid environment: OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1 (got "${ratio}")`);
  }
  return { enabled: true, protocol };
}
