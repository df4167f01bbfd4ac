# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the full dependency set.
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled output and production dependencies only, as the unprivileged node user.
# No PORT here: the environment wins over the config file, so setting it would override the `port`
# of a mounted laravel-echo-server.json. The server's own default is 6001.
FROM node:26-bookworm-slim
ENV NODE_ENV=production \
    ECHO_RELAY_LOG_FORMAT=json
# The server reads ./laravel-echo-server.json when present: mount yours at /app/laravel-echo-server.json.
# Elsewhere: `start --config <path>` after the image name, and PORT for the health check (it reads
# only ./laravel-echo-server.json); PORT then wins over that file's `port`, so keep them equal.
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node deploy/healthcheck.cjs ./deploy/
USER node
EXPOSE 6001
# Liveness through Node itself (the slim image has no curl), on the port the server picked:
# PORT, else the mounted file's `port`, else 6001 (deploy/healthcheck.cjs).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "deploy/healthcheck.cjs", "/health"]
# SIGTERM reaches node directly (exec form), which stops gracefully and exits 0. No command: the server
# starts without a pid file, which a restarted container (pid 1 again) would otherwise find naming
# itself; `docker run <image> start --config /x.json` still works.
ENTRYPOINT ["node", "dist/echo-relay.mjs"]
