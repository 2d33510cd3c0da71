/**
 * Which endpoints run-time registration may point at: tcp:// or ipc:// only (the schema
 * checks the form), hosts on the operator's allow-list (names, `*.suffix` patterns,
 * IPs or CIDRs), and never the gateway's own listeners (a loop that would feed the
 * gateway its own requests).
 */
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";

export interface EndpointPolicy {
  /** Undefined when allowed, else the reason it is refused. */
  check(endpoint: string): string | undefined;
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "0.0.0.0", "::", "*", "[::1]", "[::]"]);

function splitTcp(endpoint: string): { host: string; port: number } | undefined {
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (!match?.[1] || !match[2]) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, "$1").toLowerCase(), port: Number(match[2]) };
}

/** Loopback, wildcard, or an address of one of this host's interfaces. */
function isLocal(host: string): boolean {
  if (LOCAL_HOSTS.has(host) || host.startsWith("127.")) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address.toLowerCase() === host));
}

export function createEndpointPolicy(allowedHosts: readonly string[], ownEndpoints: () => readonly string[]): EndpointPolicy {
  const nets = new BlockList();
  const names: string[] = [];
  for (const entry of allowedHosts) {
    const [address, prefix] = entry.split("/");
    const family = address ? isIP(address) : 0;
    if (family && prefix !== undefined) nets.addSubnet(address!, Number(prefix), family === 6 ? "ipv6" : "ipv4");
    else if (family) nets.addAddress(address!, family === 6 ? "ipv6" : "ipv4");
    else names.push(entry.toLowerCase());
  }
  const hostAllowed = (host: string): boolean => {
    if (allowedHosts.length === 0) return true;
    const family = isIP(host);
    if (family) return nets.check(host, family === 6 ? "ipv6" : "ipv4");
    return names.some((name) => (name.startsWith("*.") ? host.endsWith(name.slice(1)) : host === name));
  };

  return {
    check(endpoint) {
      if (endpoint.startsWith("ipc://")) {
        if (ownEndpoints().includes(endpoint)) return "the endpoint is one of the gateway's own sockets";
        return allowedHosts.length === 0 || allowedHosts.includes("ipc") ? undefined : 'ipc:// endpoints are not on admin.allowedWorkerHosts (add "ipc")';
      }
      const tcp = splitTcp(endpoint);
      if (!tcp) return "must be tcp://host:port or ipc://path";
      if (tcp.port === 0) return "a worker endpoint needs a real port";
      for (const own of ownEndpoints()) {
        const mine = splitTcp(own);
        if (mine && mine.port === tcp.port && (mine.host === tcp.host || (isLocal(tcp.host) && isLocal(mine.host)))) {
          return "the endpoint points back at the gateway's own port";
        }
      }
      if (!hostAllowed(tcp.host)) return `host "${tcp.host}" is not on admin.allowedWorkerHosts`;
      return undefined;
    },
  };
}
