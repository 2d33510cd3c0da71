/**
 * deploy/: the Kubernetes manifests and the compose file, checked without a cluster or a
 * Docker engine. Every Kubernetes document is validated against the API's OpenAPI schema
 * (kubernetes-models), then the fields that matter are checked against each other and
 * against the gateway's own config schema.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget, type IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service, type IService } from "kubernetes-models/v1/Service";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { parseConfig, type Config } from "../../src/config.js";
import { GATEWAY_NODE_FLAGS } from "../../src/node-flags.js";
import { parseDnsEndpoint } from "../../src/services/dns-discovery.js";
import { repoRoot } from "../helpers/paths.js";

const k8sDir = join(repoRoot, "deploy", "k8s");
const models: Record<string, { new (data: never): { validate(): void } }> = {
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Service": Service,
};

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const kustomization = parseYaml(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8")) as { namespace: string; resources: string[]; images: { name: string }[] };

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of kustomization.resources) {
    for (const document of parseAllDocuments(readFileSync(join(k8sDir, file), "utf8"))) {
      assert.deepEqual(document.errors, [], `${file} parses as YAML`);
      const value = document.toJS() as Manifest | null;
      if (value !== null) manifests.push({ ...value, file });
    }
  }
  return manifests;
}

const manifests = loadManifests();

function one<T>(kind: string, name: string): T {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name}`);
  return found[0] as T;
}

/** Every key=value of `selector` is a label of `labels`. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

const gateway = one<IDeployment>("Deployment", "zmq-gateway");
const gatewayPod = gateway.spec!.template.spec!;
const gatewayContainer = gatewayPod.containers[0]!;
const configMap = one<IConfigMap>("ConfigMap", "zmq-gateway-config");
const gatewayConfig: Config = parseConfig(parseYaml(configMap.data!["gateway.yaml"]!));
const workers = one<IDeployment>("Deployment", "echo-worker");
const workerContainer = workers.spec!.template.spec!.containers[0]!;
const headless = one<IService>("Service", "echo-worker-headless");

/** The seconds a preStop `node -e "setTimeout(() => {}, MS)"` waits. */
function preStopSeconds(command: string[] | undefined): number {
  const match = /setTimeout\(\(\) => \{\}, (\d+)\)/.exec(command?.join(" ") ?? "");
  assert.ok(match?.[1], `a preStop wait in ${JSON.stringify(command)}`);
  return Number(match[1]) / 1000;
}

describe("Kubernetes manifests (deploy/k8s)", () => {
  test("the kustomization lists every manifest file, and each document is a valid object of the Kubernetes API", () => {
    const files = readdirSync(k8sDir).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml").sort();
    assert.deepEqual([...kustomization.resources].sort(), files);
    assert.ok(manifests.length >= 8);
    for (const manifest of manifests) {
      const Model = models[`${manifest.apiVersion}/${manifest.kind}`];
      assert.ok(Model, `${manifest.file}: ${manifest.apiVersion} ${manifest.kind} is a kind these manifests should use`);
      const object: Record<string, unknown> = { ...manifest };
      delete object.file;
      assert.doesNotThrow(() => new Model(object as never).validate(), `${manifest.file}: ${manifest.kind} ${manifest.metadata.name} matches the API schema`);
      assert.equal(manifest.metadata.namespace, undefined, `${manifest.file}: the kustomization sets the namespace`);
    }
    assert.equal(one<Manifest>("Namespace", kustomization.namespace).metadata.name, kustomization.namespace);
    const images = new Set([gatewayContainer.image, workerContainer.image]);
    assert.deepEqual([...images], kustomization.images.map((image) => image.name), "the kustomization pins the image both Deployments use");
  });

  test("the gateway's config in the ConfigMap is valid, is the file the container reads, and listens on the container's ports", () => {
    const mount = gatewayContainer.volumeMounts!.find((m) => m.name === "config")!;
    const volume = gatewayPod.volumes!.find((v) => v.name === "config")!;
    assert.equal(volume.configMap?.name, configMap.metadata!.name);
    assert.deepEqual(gatewayContainer.args, ["--config", `${mount.mountPath}/gateway.yaml`]);
    const port = (name: string) => gatewayContainer.ports!.find((p) => p.name === name)?.containerPort;
    assert.equal(port("http"), gatewayConfig.http.port);
    assert.equal(port("admin"), gatewayConfig.admin.port);
    assert.equal(gatewayConfig.http.host, "0.0.0.0");
  });

  test("the gateway runs at least two replicas, non-root, read-only, with requests and a memory limit", () => {
    assert.ok(gateway.spec!.replicas! >= 2);
    assert.ok(selects(gateway.spec!.selector.matchLabels, gateway.spec!.template.metadata!.labels));
    assert.equal(gateway.spec!.strategy?.rollingUpdate?.maxUnavailable, 0, "a rollout never goes below the replica count");
    assert.equal(gatewayPod.securityContext?.runAsNonRoot, true);
    assert.equal(gatewayPod.securityContext?.runAsUser, 1000, "the image's uid");
    assert.equal(gatewayContainer.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(gatewayContainer.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(gatewayContainer.securityContext?.capabilities?.drop, ["ALL"]);
    const { requests, limits } = gatewayContainer.resources!;
    assert.ok(requests?.cpu && requests.memory && limits?.memory);
    assert.equal(limits.cpu, undefined, "no CPU limit: throttling would stretch every request");
  });

  test("the gateway keeps the image's V8 flags and caps its heap below the memory limit", () => {
    const command = gatewayContainer.command ?? [];
    assert.equal(command.at(-1), "dist/src/main.js");
    const flags = command.slice(1, -1);
    for (const flag of GATEWAY_NODE_FLAGS.filter((candidate) => !candidate.startsWith("--max-old-space-size="))) assert.ok(flags.includes(flag), `${flag} in ${command.join(" ")}`);
    const heapMiB = Number(/^--max-old-space-size=(\d+)$/.exec(flags.find((flag) => flag.startsWith("--max-old-space-size=")) ?? "")?.[1]);
    const limitMiB = Number(/^(\d+)Mi$/.exec(String(gatewayContainer.resources?.limits?.memory))?.[1]);
    assert.ok(heapMiB > 0 && limitMiB > 0, `a heap cap and a memory limit in Mi (${heapMiB}, ${limitMiB})`);
    // Room under the limit for the young generation, code, libzmq and Buffers (bodies live off the heap).
    assert.ok(heapMiB <= limitMiB * 0.75, `--max-old-space-size=${heapMiB} leaves room under the ${limitMiB} Mi limit`);
    assert.equal(gatewayContainer.env?.find((variable) => variable.name === "NODE_OPTIONS"), undefined, "the command line would override it");
  });

  test("readiness is /readyz and liveness /healthz on the public port", () => {
    assert.deepEqual(gatewayContainer.readinessProbe?.httpGet, { path: "/readyz", port: "http" });
    assert.deepEqual(gatewayContainer.livenessProbe?.httpGet, { path: "/healthz", port: "http" });
    assert.ok(gatewayContainer.ports!.some((port) => port.name === "http"));
  });

  test("the grace period covers the preStop wait, drainTimeoutMs and the close", () => {
    const preStop = preStopSeconds(gatewayContainer.lifecycle?.preStop?.exec?.command);
    const grace = gatewayPod.terminationGracePeriodSeconds!;
    const drain = gatewayConfig.drainTimeoutMs / 1000;
    // After the drain: listeners close (1 s) and buffered spans are flushed (at most 5 s).
    assert.ok(grace >= preStop + drain + 6, `terminationGracePeriodSeconds ${grace} >= preStop ${preStop} + drain ${drain} + 6`);
    assert.ok(preStop >= 2, "preStop gives the endpoint time to leave the Service");
  });

  test("the Service, the PodDisruptionBudget and the HorizontalPodAutoscaler all point at the gateway pods", () => {
    const service = one<IService>("Service", "zmq-gateway");
    assert.ok(selects(service.spec!.selector, gateway.spec!.template.metadata!.labels));
    assert.ok(!selects(service.spec!.selector, workers.spec!.template.metadata!.labels), "not at the workers");
    assert.deepEqual(service.spec!.ports!.map((port) => port.targetPort), ["http"]);

    const pdb = one<IPodDisruptionBudget>("PodDisruptionBudget", "zmq-gateway");
    assert.ok(selects(pdb.spec!.selector!.matchLabels, gateway.spec!.template.metadata!.labels));
    const replicas = gateway.spec!.replicas!;
    const maxUnavailable = pdb.spec!.maxUnavailable;
    assert.ok(typeof maxUnavailable === "number" && maxUnavailable >= 1 && maxUnavailable < replicas, "a drain can proceed, one pod at a time");

    const hpa = one<IHorizontalPodAutoscaler>("HorizontalPodAutoscaler", "zmq-gateway");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "zmq-gateway" });
    assert.ok(hpa.spec.minReplicas! >= 2 && hpa.spec.minReplicas! <= hpa.spec.maxReplicas);
    assert.equal(hpa.spec.minReplicas, replicas);
    const cpu = hpa.spec.metrics!.find((metric) => metric.resource?.name === "cpu");
    assert.ok(cpu?.resource?.target.averageUtilization, "scales on CPU utilization");
    assert.ok(gatewayContainer.resources?.requests?.cpu, "utilization needs a CPU request");
  });

  test("the gateway finds the worker pods through the headless Service: same name, namespace and port", () => {
    assert.equal(headless.spec!.clusterIP, "None");
    assert.ok(selects(headless.spec!.selector, workers.spec!.template.metadata!.labels));
    const [dnsWorker] = gatewayConfig.services.echo!.workers;
    const target = parseDnsEndpoint(dnsWorker!.endpoint);
    assert.ok(target, "the echo service's worker is a dns+tcp:// name");
    const [serviceName, namespace] = target.host.split(".");
    assert.equal(serviceName, headless.metadata!.name);
    assert.equal(namespace, kustomization.namespace);
    const port = headless.spec!.ports![0]!;
    assert.equal(port.port, target.port);
    const containerPort = workerContainer.ports!.find((p) => p.name === port.targetPort);
    assert.equal(containerPort?.containerPort, target.port);
    assert.equal(workerContainer.env?.find((env) => env.name === "WORKER_BIND")?.value, `tcp://*:${target.port}`);
    assert.ok(workerContainer.readinessProbe?.tcpSocket, "only ready pods are in the DNS answer");
  });

  test("a stopping worker pod keeps serving until the gateway has dropped it from DNS", () => {
    const preStop = preStopSeconds(workerContainer.lifecycle?.preStop?.exec?.command);
    const dnsTtlSeconds = 5; // CoreDNS's default for cluster records
    assert.ok(preStop >= gatewayConfig.discovery.dnsIntervalMs / 1000 + dnsTtlSeconds, `preStop ${preStop} s covers a resolution interval and the TTL`);
    assert.ok(workers.spec!.template.spec!.terminationGracePeriodSeconds! > preStop);
  });
});

describe("the compose file (deploy/compose.yaml)", () => {
  const composeDir = join(repoRoot, "deploy");
  interface ComposeService {
    build?: { context: string; dockerfile: string };
    image?: string;
    environment?: Record<string, string>;
    configs?: { source: string; target: string }[];
    secrets?: string[];
    stop_grace_period?: string;
    deploy?: { replicas?: number };
  }
  const compose = parseYaml(readFileSync(join(composeDir, "compose.yaml"), "utf8"), { merge: true }) as {
    services: Record<string, ComposeService>;
    configs: Record<string, { file: string }>;
    secrets: Record<string, { environment?: string }>;
  };
  const configFile = (service: ComposeService, target: string) => {
    const source = service.configs?.find((config) => config.target === target)?.source;
    assert.ok(source, `a config mounted at ${target}`);
    return join(composeDir, compose.configs[source]!.file);
  };

  test("it runs the gateway, Node and Python workers, Jaeger and Prometheus, built from this repository", () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ["gateway", "jaeger", "node-worker", "prometheus", "python-worker"]);
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      assert.ok(existsSync(join(composeDir, service.build.context, service.build.dockerfile)), `${name}: its Dockerfile exists`);
    }
    assert.ok((compose.services["node-worker"]!.deploy?.replicas ?? 1) >= 2);
  });

  test("the gateway's config is valid, finds the Node workers by DNS and outlasts its drain on stop", () => {
    const gatewayService = compose.services.gateway!;
    const config = parseConfig(parseYaml(readFileSync(configFile(gatewayService, gatewayService.environment!.ZMQ_GATEWAY_CONFIG!), "utf8")));
    const hosts = Object.values(config.services)
      .flatMap((service) => service.workers)
      .map((worker) => parseDnsEndpoint(worker.endpoint)?.host ?? /^tcp:\/\/([^:]+):/.exec(worker.endpoint)?.[1]);
    assert.deepEqual(hosts.sort(), ["node-worker", "python-worker"]);
    assert.ok(config.services.echo!.workers[0]!.endpoint.startsWith("dns+tcp://node-worker:"));
    const grace = Number(/^(\d+)s$/.exec(gatewayService.stop_grace_period ?? "")?.[1]);
    assert.ok(grace * 1000 > config.drainTimeoutMs, "stop_grace_period outlasts drainTimeoutMs");
    assert.equal(gatewayService.environment!.OTEL_EXPORTER_OTLP_ENDPOINT, "http://jaeger:4318");
    assert.equal(config.admin.host, "0.0.0.0");
    assert.ok(gatewayService.environment!.ZMQ_GATEWAY_ADMIN_TOKEN_FILE, "an admin token, without which the admin listener stays on loopback");
  });

  test("Prometheus scrapes the gateway's admin listener with the admin token", () => {
    const gatewayService = compose.services.gateway!;
    const config = parseConfig(parseYaml(readFileSync(configFile(gatewayService, gatewayService.environment!.ZMQ_GATEWAY_CONFIG!), "utf8")));
    const prometheusService = compose.services.prometheus!;
    const prometheus = parseYaml(readFileSync(configFile(prometheusService, "/etc/prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: { metrics_path: string; authorization: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
    };
    const [job] = prometheus.scrape_configs;
    assert.equal(job!.metrics_path, "/metrics");
    assert.deepEqual(job!.static_configs[0]!.targets, [`gateway:${config.admin.port}`]);
    const tokenFile = gatewayService.environment!.ZMQ_GATEWAY_ADMIN_TOKEN_FILE!;
    assert.equal(job!.authorization.credentials_file, tokenFile);
    const secret = tokenFile.split("/").pop()!;
    assert.ok(gatewayService.secrets?.includes(secret) && prometheusService.secrets?.includes(secret));
    assert.ok(compose.secrets[secret]?.environment, "the token comes from the environment, not from a file in the repository");
  });
});
