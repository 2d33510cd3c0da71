#!/usr/bin/env bash
# npm run test:container: the container image, end to end, on this machine.
#
#  1. a Docker engine: uses the running one, or installs Debian's docker.io (as root) and
#     starts dockerd itself (and stops it at the end);
#  2. a base image: $NODE_IMAGE if set, else node:20-bookworm-slim if it is already here,
#     else one made locally with debootstrap (Debian's mirror) plus this machine's node and
#     npm, imported with `docker import` (nothing is pulled from a registry);
#  3. the real Dockerfile, built with BuildKit; the host's CA bundle goes in as the build
#     secret npm_ca when there is one (for a proxy that intercepts TLS);
#  4. on a user-defined network: the example echo worker, the Python worker
#     (deploy/python-worker/Dockerfile), two slow workers behind one DNS alias, and the
#     gateway, which finds those two through dns+tcp://workers:5555;
#  5. checks, calling the gateway with curl from the host on ports published to 127.0.0.1:
#     replies from each worker; the gateway runs as uid 1000 and is PID 1; its health check
#     turns healthy; `docker stop` during a burst of requests answers every one of them
#     (200) and the container exits 0.
#
# It removes only the containers, network and files it created, and stops dockerd only if
# it started it. Images stay, as a cache for the next run.
# Environment: NODE_IMAGE (base image), NPM_CA_FILE (CA bundle for npm in the build),
# KEEP=1 (leave the containers running for a look).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

started=$(date +%s)
say() { printf '[test:container %3ds] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}

run_id="zgw-test-$$"
state=$(mktemp -d "/tmp/${run_id}.XXXX")
containers=()
network=""
dockerd_pid=""

cleanup() {
  local code=$?
  if [ "${KEEP:-}" = 1 ] && [ "$code" -ne 0 ]; then
    say "KEEP=1: leaving ${containers[*]:-no containers} and network ${network:-none}"
    return
  fi
  if [ "$code" -ne 0 ] && [ ${#containers[@]} -gt 0 ]; then
    for name in "${containers[@]}"; do
      say "--- last log lines of $name"
      docker logs --tail 8 "$name" 2>&1 | cut -c1-400 | sed 's/^/    /' >&2 || true
    done
  fi
  for name in "${containers[@]}"; do docker rm -f "$name" >/dev/null 2>&1 || true; done
  if [ -n "$network" ]; then docker network rm "$network" >/dev/null 2>&1 || true; fi
  if [ -n "$dockerd_pid" ]; then
    say "stopping the dockerd this script started (pid $dockerd_pid)"
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$state"
  if [ "$code" -eq 0 ]; then say "PASS"; fi
}
trap cleanup EXIT

# Polls `$@` every 0.2 s until it succeeds, for at most $1 seconds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.2
  done
}

# Installs Debian packages (as root), running apt-get update first only if it must.
apt_install() {
  [ "$(id -u)" = 0 ] || fail "$* missing, and installing it needs root"
  say "installing Debian's $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "$@" >"$state/apt.log" 2>&1 ||
    { apt-get update >>"$state/apt.log" 2>&1 && apt-get install -y --no-install-recommends "$@" >>"$state/apt.log" 2>&1; } ||
    fail "apt-get install $* failed: $(tail -3 "$state/apt.log")"
}

# --- 1. a Docker engine -----------------------------------------------------------------
command -v curl >/dev/null 2>&1 || apt_install curl
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  say "starting dockerd"
  dockerd >"$state/dockerd.log" 2>&1 &
  dockerd_pid=$!
  wait_for 60 "dockerd to answer" docker info
fi
say "engine: Docker $(docker version --format '{{.Server.Version}}')"

# BuildKit: the buildx plugin, or a client older than 23 (Debian's docker.io) that has it built in.
build_cmd=()
if docker buildx version >/dev/null 2>&1; then
  build_cmd=(docker buildx build --load)
else
  for client in docker /usr/bin/docker; do
    major=$("$client" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)
    if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -lt 23 ]; then
      build_cmd=(env DOCKER_BUILDKIT=1 "$client" build)
      break
    fi
  done
fi
[ ${#build_cmd[@]} -gt 0 ] || fail "no BuildKit client: install the buildx plugin (or Debian's docker.io)"

# --- 2. a base image --------------------------------------------------------------------
node_version=$(node --version)
if [ -z "${NODE_IMAGE:-}" ]; then
  if docker image inspect node:20-bookworm-slim >/dev/null 2>&1; then
    NODE_IMAGE=node:20-bookworm-slim
  else
    NODE_IMAGE="zmq-gateway-test/node:${node_version#v}-bookworm-minbase"
    if ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
      [ "$(id -u)" = 0 ] || fail "making a base image with debootstrap needs root (or set NODE_IMAGE)"
      case "$node_version" in v20.* | v22.* | v24.*) ;; *) fail "this machine's node is $node_version; the base image needs 20 or later" ;; esac
      command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
      say "making $NODE_IMAGE: debootstrap bookworm (minbase) + node $node_version"
      rootfs="$state/rootfs"
      debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$state/debootstrap.log" 2>&1 ||
        fail "debootstrap failed: $(tail -3 "$state/debootstrap.log")"
      install -m 0755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
      mkdir -p "$rootfs/usr/local/lib/node_modules"
      cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/npm"
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
      # As in the official images: an unprivileged "node" user, uid and gid 1000.
      chroot "$rootfs" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
      env -u NODE_EXTRA_CA_CERTS chroot "$rootfs" /usr/local/bin/node --version >/dev/null || fail "node does not run in the base image"
      rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
      tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["node"]' - "$NODE_IMAGE" >/dev/null
      rm -rf "$rootfs"
    fi
  fi
fi
say "base image: $NODE_IMAGE"

# --- 3. the images ----------------------------------------------------------------------
secret=()
ca="${NPM_CA_FILE:-$(npm config get cafile 2>/dev/null || true)}"
if [ -z "$ca" ] || [ "$ca" = null ] || [ "$ca" = undefined ]; then ca="${NODE_EXTRA_CA_CERTS:-}"; fi
if [ -n "$ca" ] && [ -s "$ca" ]; then
  secret=(--secret "id=npm_ca,src=$ca")
  say "npm in the build trusts $ca (build secret npm_ca)"
fi
image=zmq-gateway:test
say "building $image (${build_cmd[*]})"
"${build_cmd[@]}" --progress=plain "${secret[@]}" --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$image" . >"$state/build.log" 2>&1 ||
  fail "docker build failed: $(tail -20 "$state/build.log")"
py_image=zmq-gateway-python-worker:test
py_base=debian:bookworm-slim
docker image inspect "$py_base" >/dev/null 2>&1 || py_base="$NODE_IMAGE" # any Debian bookworm
say "building $py_image on $py_base"
"${build_cmd[@]}" --progress=plain --build-arg "BASE_IMAGE=$py_base" -f deploy/python-worker/Dockerfile -t "$py_image" . >"$state/build-py.log" 2>&1 ||
  fail "docker build of the Python worker failed: $(tail -20 "$state/build-py.log")"
say "images built"

# --- 4. workers and gateway on a user-defined network -------------------------------------
network="$run_id"
docker network create "$network" >/dev/null

run() {
  local name="$run_id-$1"
  shift
  containers+=("$name")
  docker run -d --name "$name" --network "$network" "$@" >/dev/null
}

# A worker that answers "<its hostname>:<body>" after DELAY_MS, from the gateway image.
# shellcheck disable=SC2016 # JavaScript, not shell: the ${...} are a template literal's
slow_worker='import { Reply } from "zeromq";
const socket = new Reply();
await socket.bind("tcp://*:5555");
process.on("SIGTERM", () => process.exit(0));
for await (const [body] of socket) {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.DELAY_MS)));
  await socket.send(`${process.env.HOSTNAME}:${body}`);
}'
run echo --network-alias echo --no-healthcheck -e WORKER_BIND='tcp://*:5555' --entrypoint node "$image" dist/examples/echo-worker.js
run py --network-alias py -e WORKER_BIND='tcp://*:5555' "$py_image"
for n in 1 2; do
  run "slow$n" --network-alias workers --hostname "slow$n" --no-healthcheck -e DELAY_MS=500 --entrypoint node "$image" --input-type=module -e "$slow_worker"
done

cat >"$state/gateway.yaml" <<'YAML'
http: { host: 0.0.0.0, port: 8080 }
admin: { host: 0.0.0.0, port: 9090 }
drainTimeoutMs: 10000
discovery: { dnsIntervalMs: 1000 }
services:
  echo: { workers: [tcp://echo:5555], contentType: application/json }
  py: { workers: [tcp://py:5555], contentType: application/json }
  slow: { workers: ["dns+tcp://workers:5555"], required: true }
YAML
chmod 0644 "$state/gateway.yaml"
chmod 0755 "$state"
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
gateway="$run_id-gateway"
run gateway -p 127.0.0.1::8080 -p 127.0.0.1::9090 \
  -v "$state/gateway.yaml:/etc/zmq-gateway/gateway.yaml:ro" \
  -e ZMQ_GATEWAY_CONFIG=/etc/zmq-gateway/gateway.yaml -e ZMQ_GATEWAY_ADMIN_TOKEN="$token" "$image"
http_port=$(docker port "$gateway" 8080/tcp | head -1 | sed 's/.*://')
admin_port=$(docker port "$gateway" 9090/tcp | head -1 | sed 's/.*://')
base="http://127.0.0.1:$http_port"
say "gateway on $base (admin 127.0.0.1:$admin_port)"

admin() { curl -fsS --max-time 5 -H "authorization: Bearer $token" "http://127.0.0.1:$admin_port/admin/services"; }
# Prints one number from GET /admin/services for service $1: connected (workers), busy
# (requests in flight or queued) or submitted (requests so far).
service_stat() {
  admin | node -e '
    let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const s = JSON.parse(text).services.find((x) => x.name === process.argv[1]);
      const stats = { connected: s.connectedWorkers, busy: s.inFlight + s.queued, submitted: s.counters.submitted };
      console.log(stats[process.argv[2]]);
    });' "$1" "$2"
}
slow_ready() { [ "$(service_stat slow connected)" = 2 ]; }

# --- 5. checks ----------------------------------------------------------------------------
wait_for 30 "the gateway's /readyz" curl -fsS --max-time 2 "$base/readyz"
wait_for 30 "both slow workers to be found through DNS" slow_ready

reply=$(curl -fsS --max-time 5 -d '{"hello":"world"}' "$base/v1/echo")
[ "$reply" = '{"hello":"world"}' ] || fail "echo replied $reply"
say "echo worker: $reply"
reply=$(curl -fsS --max-time 5 -d 'hi' "$base/v1/py")
[ "$reply" = '{"worker": "python", "echo": "hi"}' ] || fail "Python worker replied $reply"
say "Python worker: $reply"
reply=$(curl -fsS --max-time 5 -d 'x' "$base/v1/slow")
say "slow worker: $reply"
[[ "$reply" =~ ^slow[12]:x$ ]] || fail "slow worker replied $reply"

uid=$(docker exec "$gateway" id -u)
[ "$uid" = 1000 ] || fail "the gateway runs as uid $uid"
[ "$(docker inspect -f '{{.Config.User}}' "$gateway")" = 1000:1000 ] || fail "the image's USER is not 1000:1000"
pid1=$(docker exec "$gateway" cat /proc/1/cmdline | tr '\0' ' ')
[[ "$pid1" == "node --max-semi-space-size=8 --max-old-space-size=1024 dist/src/main.js"* ]] || fail "PID 1 is '$pid1', not node"
say "the gateway runs as uid $uid, PID 1 is '$pid1'"

healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$gateway")" = healthy ]; }
wait_for 60 "the health check to turn healthy" healthy
say "health check: healthy"

# A burst that takes ~6 s to serve (24 requests x 500 ms over 2 workers, within the
# 10 s drainTimeoutMs), all in the gateway before SIGTERM: each must be answered 200.
burst=24
before=$(service_stat slow submitted)
mkdir "$state/burst"
curl_pids=()
for i in $(seq 1 "$burst"); do
  curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 -d "b$i" "$base/v1/slow" >"$state/burst/$i" 2>"$state/burst/$i.err" &
  curl_pids+=($!)
done
all_arrived() { [ "$(service_stat slow submitted)" = "$((before + burst))" ]; }
wait_for 30 "all $burst requests to reach the gateway" all_arrived
busy=$(service_stat slow busy)
[ "$busy" -ge $((burst / 2)) ] || fail "only $busy requests were left when the burst was in: too slow to test a drain"
say "all $burst requests in, $busy still in flight or queued: docker stop"
stop_started=$(date +%s)
docker stop -t 30 "$gateway" >/dev/null
say "docker stop returned after $(($(date +%s) - stop_started))s"
for pid in "${curl_pids[@]}"; do wait "$pid" || true; done
codes=$(cat "$state"/burst/[0-9]* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
ok=$(cat "$state"/burst/[0-9]* | grep -c '^200$' || true)
[ "$ok" = "$burst" ] || fail "only $ok of $burst requests were answered 200 during the drain (status counts: $codes)"
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$gateway")
[ "$exit_code" = 0 ] || fail "the gateway exited $exit_code after docker stop"
docker logs "$gateway" 2>/dev/null | grep -q '"event":"stopped"' || fail "no \"stopped\" log line"
say "all $burst answered 200 during the drain; exit code 0"
