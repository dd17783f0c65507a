# tickroom's server image: one static Go binary (CGO off: SQLite is pure
# Go) on distroless, running as a non-root user, with its rooms and
# recordings in the /data volume. The browser client is embedded (the
# committed assets/dist), so no Node.js is needed to build it.
#
#   docker build -t tickroom .
#   docker run -p 8080:8080 -v tickroom-data:/data tickroom
#
# docs/DEPLOY.md: the settings that matter in production, probes, compose.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0 GOOS=linux
RUN go build -trimpath -ldflags="-s -w" -o /out/tickroom ./cmd/tickroom \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tickroom /usr/local/bin/tickroom
# The volume's mount point belongs to the nonroot user (65532), so a fresh
# named volume is writable by the server.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV TICKROOM_ADDR=:8080 \
    TICKROOM_DATA_DIR=/data \
    TICKROOM_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/tickroom"]
