/**
 * DNS discovery of connect-out workers, as Envoy's STRICT_DNS clusters do it. A worker
 * entry `dns+tcp://name:port` stands for every address `name` resolves to: the gateway
 * connects to each (one link, one worker each), resolves the name again every
 * `discovery.dnsIntervalMs`, adds the new addresses and removes the ones that are gone
 * (`pool.removeWorker`: a removed worker still answers what it holds). In Kubernetes the
 * name of a headless Service lists the ready pods of the worker Deployment, so scaling the
 * Deployment needs no admin call.
 *
 * Failure modes, none of which stops the gateway:
 * - the name does not exist or has no address (ENOTFOUND, ENODATA): no workers; every
 *   discovered worker is removed, since a stale address may soon belong to another pod;
 * - any other failure (timeout, SERVFAIL): the workers stay as they are until an answer;
 * - a failure is logged once per error code, not on every interval.
 */
import { lookup } from "node:dns/promises";
import { DNS_ENDPOINT_PATTERN, type WorkerMode } from "../config.js";
import type { Logger } from "../telemetry/logger.js";
import type { LinkExtras } from "./worker-link.js";
import type { WorkerPool } from "./worker-pool.js";

/** Resolves a host name to addresses; rejects with a Node DNS error whose `code` says why. */
export type ResolveAddresses = (hostname: string) => Promise<string[]>;

/**
 * The system resolver (getaddrinfo: /etc/hosts, search domains, Docker's and the
 * cluster's DNS), IPv4 only: a dual-stack name would otherwise put two links on one REP
 * worker, which serves one request at a time.
 */
export const resolveWithLookup: ResolveAddresses = async (hostname) =>
  (await lookup(hostname, { all: true, family: 4 })).map((entry) => entry.address);

/** `dns+tcp://name:port` split; undefined for any other endpoint. */
export function parseDnsEndpoint(endpoint: string): { host: string; port: number } | undefined {
  const match = DNS_ENDPOINT_PATTERN.exec(endpoint);
  return match?.[1] && match[2] ? { host: match[1], port: Number(match[2]) } : undefined;
}

export interface DiscoverySettings {
  /** Time between the end of one resolution and the start of the next, ms. */
  intervalMs: number;
  resolve: ResolveAddresses;
}

export interface DiscoveryTarget {
  service: string;
  /** The entry as configured, `dns+tcp://name:port`. */
  endpoint: string;
  mode: WorkerMode;
  extras?: LinkExtras | undefined;
}

/** Answers that mean "this name has no address", as opposed to "no answer". */
const NO_ADDRESS = new Set(["ENOTFOUND", "ENODATA"]);

/** One `dns+tcp://` entry of one service: owns the workers it added and its timer. */
export class DnsDiscovery {
  readonly target: DiscoveryTarget;
  private readonly host: string;
  private readonly port: number;
  private readonly pool: WorkerPool;
  private readonly settings: DiscoverySettings;
  private readonly logger: Logger | undefined;
  /** Address -> id of the worker added for it. */
  private readonly known = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failure: string | undefined;

  constructor(pool: WorkerPool, target: DiscoveryTarget, settings: DiscoverySettings, logger?: Logger) {
    const parsed = parseDnsEndpoint(target.endpoint);
    if (!parsed) throw new TypeError(`not a dns+tcp:// endpoint: ${target.endpoint}`);
    this.host = parsed.host;
    this.port = parsed.port;
    this.pool = pool;
    this.target = target;
    this.settings = settings;
    this.logger = logger;
  }

  /** Addresses that have a worker now. */
  get addresses(): string[] {
    return [...this.known.keys()];
  }

  /**
   * Resolves once (so the first workers exist when the gateway starts listening), then
   * again every `intervalMs` until stop(). Never rejects.
   */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /** No more resolutions; the workers already added stay until the pool closes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule());
    }, this.settings.intervalMs);
  }

  /** One resolution and the changes it brings. Never rejects. */
  async refresh(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.settings.resolve(this.host);
      this.recovered();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "EUNKNOWN";
      this.failed(code, error);
      if (!NO_ADDRESS.has(code)) return;
      addresses = [];
    }
    if (this.stopped) return;
    const wanted = new Set(addresses);
    for (const [address, id] of [...this.known]) {
      // Still wanted and still in the pool (not removed over the admin API): keep it.
      if (wanted.has(address) && this.pool.hasWorker(id)) continue;
      this.known.delete(address);
      if (!wanted.has(address) && this.pool.removeWorker(id)) this.log("dns-worker-removed", id, address);
    }
    for (const address of wanted) {
      if (this.known.has(address)) continue;
      const endpoint = `tcp://${address.includes(":") ? `[${address}]` : address}:${this.port}`;
      try {
        const worker = await this.pool.addWorker("out", endpoint, this.target.mode, "config", this.target.extras);
        if (this.stopped) {
          this.pool.removeWorker(worker.id);
          return;
        }
        this.known.set(address, worker.id);
        this.log("dns-worker-added", worker.id, address);
      } catch (error) {
        this.logger?.warn({ event: "dns-worker-failed", service: this.target.service, endpoint, err: error }, "cannot add a discovered worker");
      }
    }
  }

  private log(event: string, id: string, address: string): void {
    this.logger?.info({ event, service: this.target.service, worker: id, name: this.host, address, port: this.port }, event === "dns-worker-added" ? "worker discovered" : "worker gone from DNS");
  }

  private failed(code: string, error: unknown): void {
    if (this.failure === code) return;
    this.failure = code;
    const kept = NO_ADDRESS.has(code) ? "removing its workers" : "keeping its workers";
    this.logger?.warn({ event: "dns-failed", service: this.target.service, name: this.host, code, err: error }, `cannot resolve ${this.host}: ${kept}`);
  }

  private recovered(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    this.logger?.info({ event: "dns-resolved", service: this.target.service, name: this.host }, `${this.host} resolves again`);
  }
}
