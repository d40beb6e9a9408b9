# carprice prediction API image.
# Build stage: compile TypeScript and build the native SQLite addon with pinned
# dependencies (npm ci from package-lock.json) and bundle the dashboard's browser code.
# Runtime stage: production dependencies, dist/src, dist/ui and the Production model
# bundle baked in as the fallback (CARPRICE_MODEL_DIR), so the container serves even
# when the registry is unreachable. Non-root, binds 0.0.0.0:8000, HEALTHCHECK on /ready (200 only once the model is loaded and warm),
# SIGTERM drains in-flight requests.
#   docker build --build-arg MODEL_DIR=image-model -t carprice .
#   docker run -p 8000:8000 carprice
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .node-headers/ (optional, not in git): Node's C headers for building better-sqlite3 on
# a machine that cannot download them or its prebuilt binary (.ci/run copies them there);
# with internet access the build needs nothing of the kind.
COPY package.json package-lock.json .node-header[s] ./
# Scripts off for the install (prepare would compile before the sources are here), then
# build the one native addon explicitly.
RUN if [ -f include/node/node.h ]; then export npm_config_nodedir=/src; fi \
 && npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && rm -rf include
COPY tsconfig.json ./
COPY scripts/build-ui.mjs ./scripts/
COPY src ./src
RUN npx tsc -p tsconfig.json \
 && node scripts/build-ui.mjs \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* \
 && find node_modules -name '*.map' -delete \
 && find node_modules \( -name '*.md' -o -name '*.d.ts' -o -name 'CHANGELOG*' \) -type f -delete

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    CARPRICE_MODEL_DIR=/app/model
WORKDIR /app
RUN (id -u node >/dev/null 2>&1 || useradd --system --uid 1000 --create-home node)
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/ui ./dist/ui
# The model bundle baked in (CI downloads the Production version into image-model/).
ARG MODEL_DIR=image-model
COPY ${MODEL_DIR} /app/model
USER node
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/ready').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
