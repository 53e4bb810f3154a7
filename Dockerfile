FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
# tsx is a runtime dependency, so TypeScript sources run without a build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY domain ./domain
COPY src ./src
COPY runtime ./runtime
RUN chmod +x runtime/docker-entrypoint.sh

EXPOSE 8080

ENTRYPOINT ["/app/runtime/docker-entrypoint.sh"]
