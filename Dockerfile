# syntax=docker/dockerfile:1
# The order system's image: one image, six services; SERVICE says which one a container runs.
#   docker compose --profile system up --build    (see docker-compose.yml)
#   docker build -t rabbitmq-order-workshop . && docker run -e SERVICE=payment -e RABBITMQ_URL=amqp://… rabbitmq-order-workshop
# Three stages: the production dependencies (better-sqlite3 is native: built here when no prebuilt
# binary fits), the TypeScript compiled to JavaScript, and a slim runtime without compilers, npm
# caches or TypeScript, running as the unprivileged `node` user.

ARG NODE_IMAGE=node:26-bookworm-slim

# 1. Production dependencies, native modules compiled for this Node.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# 2. The system (shared/ and solutions/) compiled to JavaScript with the project's TypeScript.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY docker/tsconfig.build.json docker/
COPY shared shared
COPY solutions solutions
# tsc emits only what it compiles: any plain-JavaScript files of solutions/ (.mjs) are copied
# beside their compiled neighbours.
RUN npx tsc -p docker/tsconfig.build.json \
 && find solutions -name '*.mjs' -exec cp --parents {} dist/ \;

# 3. Runtime.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SERVICE=order \
    HTTP_PORT=8080 \
    HTTP_HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/dist ./
COPY docker/healthcheck.mjs docker/healthcheck.mjs
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
# exec: node is PID 1 and gets SIGTERM from `docker stop`, so the service shuts down gracefully.
CMD ["sh", "-c", "exec node solutions/run-service.js \"$SERVICE\""]
