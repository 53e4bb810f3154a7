# Build stage: installs everything, compiles TypeScript to dist/ (`npm ci` runs the `prepare` script, i.e.
# `npm run build`), then drops the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY src ./src
COPY runtime ./runtime
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm prune --omit=dev && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY runtime/docker-entrypoint.sh ./runtime/docker-entrypoint.sh
RUN chmod +x runtime/docker-entrypoint.sh

EXPOSE 8080

ENTRYPOINT ["/app/runtime/docker-entrypoint.sh"]
