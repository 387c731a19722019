# The toys: compiled JavaScript (dist/toys), the npm packages they import, and a package.json saying "type": "module".
# BASE is chaoslab-node:latest (built from local files) or the official node image. Its own layer, so a toy change
# rebuilds only this small COPY.
ARG BASE=chaoslab-node:latest
FROM ${BASE}
COPY app/ /app/
WORKDIR /app
USER 65534:65534
