/**
 * Secrets never live in the config file in clear: the admin token and the gateway's
 * CURVE key pair come from environment variables or from files the config names.
 * Read once at start; a missing or malformed secret is a ConfigError (exit 2).
 */
import { readFileSync } from "node:fs";
import { Z85_KEY_PATTERN, type Config } from "./config.js";
import { ConfigError } from "./errors.js";


export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

export interface Secrets {
  /** Bearer token for the admin API; undefined: no token (admin bound to loopback only). */
  adminToken?: string | undefined;
  /** The gateway's CURVE key pair, when `curve.enabled`. */
  curve?: CurveKeyPair | undefined;
}

function readSecretFile(file: string, field: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new ConfigError(`invalid config: ${field}: cannot read ${file}: ${(error as Error).message}`);
  }
}

function fromEnvOrFile(env: NodeJS.ProcessEnv, name: string, file: string | undefined, field: string): string | undefined {
  const direct = env[name];
  if (direct) return direct.trim();
  const envFile = env[`${name}_FILE`];
  if (envFile) return readSecretFile(envFile, `${name}_FILE`);
  return file ? readSecretFile(file, field) : undefined;
}

function checkKey(value: string | undefined, field: string): string {
  if (!value) throw new ConfigError(`invalid config: ${field}: curve.enabled needs the gateway's key (env or file)`);
  if (!Z85_KEY_PATTERN.test(value)) throw new ConfigError(`invalid config: ${field}: must be a 40-character Z85 key (got ${value.length} characters)`);
  return value;
}

export function loadSecrets(config: Config, env: NodeJS.ProcessEnv): Secrets {
  const adminToken = fromEnvOrFile(env, "ZMQ_GATEWAY_ADMIN_TOKEN", config.admin.tokenFile, "admin.tokenFile");
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError("invalid config: admin token: must be at least 16 characters");
  }
  if (!config.curve.enabled) return { adminToken };
  return {
    adminToken,
    curve: {
      publicKey: checkKey(fromEnvOrFile(env, "ZMQ_GATEWAY_CURVE_PUBLIC_KEY", config.curve.publicKeyFile, "curve.publicKeyFile"), "curve.publicKeyFile"),
      secretKey: checkKey(fromEnvOrFile(env, "ZMQ_GATEWAY_CURVE_SECRET_KEY", config.curve.secretKeyFile, "curve.secretKeyFile"), "curve.secretKeyFile"),
    },
  };
}

/** Allowed connect-in worker keys: the config list plus the keys file (one a line; lines starting with # are comments). */
export function readAllowedKeys(config: Config): string[] {
  const keys = new Set(config.curve.allowedKeys);
  if (config.curve.allowedKeysFile) {
    for (const line of readSecretFile(config.curve.allowedKeysFile, "curve.allowedKeysFile").split("\n")) {
      const key = line.trim();
      if (!key || key.startsWith("#")) continue; // Z85 keys may contain "#": only whole lines are comments
      if (!Z85_KEY_PATTERN.test(key)) throw new ConfigError(`invalid config: curve.allowedKeysFile: "${key}" is not a 40-character Z85 key`);
      keys.add(key);
    }
  }
  return [...keys];
}
