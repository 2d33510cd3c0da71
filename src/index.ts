/**
 * The library entry point, for embedding the gateway in another Node program.
 * The CLI (src/main.ts) is a thin shell around these.
 */
export { createGateway, type Gateway, type GatewayAddresses, type GatewayOptions } from "./gateway.js";
export { loadConfig, parseConfig, type Config, type ConfigInput, type ServiceConfig } from "./config.js";
export { ConfigError, GatewayError, errorCodes, type ErrorCode } from "./errors.js";
export { createLogger, type Logger } from "./telemetry/logger.js";
export type { AttemptHandle, AttemptInfo, AttemptOutcome, PoolObserver } from "./services/pool-types.js";
