# zmq-gateway container image.
#
#   docker build -t zmq-gateway .
#   docker build --build-arg NODE_IMAGE=node:20-bookworm -t zmq-gateway .
#   docker run --rm -p 8080:8080 -v "$PWD/gateway.yaml:/etc/zmq-gateway/gateway.yaml:ro" \
#     -e ZMQ_GATEWAY_CONFIG=/etc/zmq-gateway/gateway.yaml zmq-gateway
#   docker run --rm zmq-gateway --help        (arguments go to the gateway's CLI, e.g. --config FILE)
#
# Inside a container, endpoints that others must reach bind to tcp://*:PORT (a front door,
# a connect-in bind), not 127.0.0.1. The admin API listens on 127.0.0.1 unless
# ZMQ_GATEWAY_ADMIN_HOST=0.0.0.0; it has no authentication, so publish it only on a
# trusted network.

ARG NODE_IMAGE=node:20-bookworm-slim

# Build: all dependencies, TypeScript compiled to dist/ (src and the example workers).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY examples ./examples
RUN npx tsc -p tsconfig.json

# Run: production dependencies (zeromq ships its native addon prebuilt) and dist/ only.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist

# The official Node images have an unprivileged "node" user; the files above stay root's.
USER node

# 8080 HTTP, 9090 admin, 5559 a native ROUTER front door, 5560 a connect-in bind
# (the ports the examples use; the config decides the real ones).
EXPOSE 8080 9090 5559 5560

# Slim images have no curl: node asks the public listener's /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({host:'127.0.0.1',port:process.env.ZMQ_GATEWAY_PORT||8080,path:'/healthz',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('timeout',function(){this.destroy()}).on('error',()=>process.exit(1))"]

# Exec form, no shell in between: node is PID 1 and gets SIGTERM itself. The gateway
# handles it (PID 1 has no default signal actions): it drains for up to drainTimeoutMs,
# then exits 0. Keep `docker stop -t` above drainTimeoutMs (10 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/main.js"]
