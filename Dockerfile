# zmq-gateway container image. Built with BuildKit (the default builder since Docker 23;
# on Docker 20.10 set DOCKER_BUILDKIT=1).
#
#   docker build -t zmq-gateway .
#   docker build --build-arg NODE_IMAGE=node:20-bookworm -t zmq-gateway .
#   docker run --rm -p 8080:8080 -v "$PWD/gateway.yaml:/etc/zmq-gateway/gateway.yaml:ro" \
#     -e ZMQ_GATEWAY_CONFIG=/etc/zmq-gateway/gateway.yaml zmq-gateway
#   docker run --rm zmq-gateway --help        (arguments go to the gateway's CLI, e.g. --config FILE)
#   docker run --rm --entrypoint node zmq-gateway dist/examples/echo-worker.js   (an example worker)
#
# Behind a proxy that intercepts TLS, npm must trust the proxy's CA: hand the bundle in as a
# build secret. It is mounted for the `npm ci` step only and is never stored in a layer:
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt -t zmq-gateway .
#
# Inside a container, endpoints that others must reach bind to tcp://*:PORT (a front door,
# a connect-in bind), not 127.0.0.1. The admin API listens on 127.0.0.1 unless an admin
# token is set (ZMQ_GATEWAY_ADMIN_TOKEN or _FILE) and ZMQ_GATEWAY_ADMIN_HOST=0.0.0.0.

ARG NODE_IMAGE=node:20-bookworm-slim

# Build: every dependency, `npm run build` (TypeScript to dist/), then the dev
# dependencies pruned. .dockerignore is an allowlist: only what the build needs comes in.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca,required=false \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: no compiler, no dev dependencies, no npm step (zeromq ships its native addon
# prebuilt). The files belong to root; the gateway cannot change them.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app

# Numeric, so Kubernetes' runAsNonRoot can check it: uid 1000 is the official Node
# images' unprivileged "node" user.
USER 1000:1000

# 8080 HTTP, 9090 admin, 5559 a native ROUTER front door, 5560 a connect-in bind
# (the ports the examples use; the config decides the real ones).
EXPOSE 8080 9090 5559 5560

# Slim images have no curl: node asks the public listener's /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({host:'127.0.0.1',port:process.env.ZMQ_GATEWAY_PORT||8080,path:'/healthz',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('timeout',function(){this.destroy()}).on('error',()=>process.exit(1))"]

# Exec form, no shell and no init in between: node is PID 1 and gets SIGTERM itself. The
# kernel gives PID 1 no default signal actions, but the gateway installs its own handlers:
# it drains for up to drainTimeoutMs, then exits 0 (npm run test:container checks this).
# It starts no child processes (with --processes N the primary waits for its own), so
# there are no zombies to reap. Keep `docker stop -t` above drainTimeoutMs (10 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=8", "--max-old-space-size=1024", "dist/src/main.js"]
