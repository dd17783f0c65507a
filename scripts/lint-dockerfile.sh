#!/usr/bin/env bash
# scripts/lint-dockerfile.sh: checks the Dockerfile. Where a Docker daemon
# answers, builds the image and checks that it runs as a non-root user and
# answers /readyz; elsewhere (these machines have a docker client and no
# daemon) lints it with dockerfile-utils (npm, a devDependency), and says
# that the build was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker info >/dev/null 2>&1; then
  tag="tickroom:check-$$"
  docker build -q -t "$tag" . >/dev/null
  trap 'docker rm -f "tickroom-check-$$" >/dev/null 2>&1 || true; docker rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
  user=$(docker image inspect -f '{{.Config.User}}' "$tag")
  case "$user" in
  "" | 0 | 0:* | root | root:*) echo "Dockerfile: the image runs as root ($user)"; exit 1 ;;
  esac
  docker run -d --name "tickroom-check-$$" -p 127.0.0.1::8080 "$tag" >/dev/null
  port=$(docker port "tickroom-check-$$" 8080/tcp | head -1 | sed 's/.*://')
  for _ in $(seq 1 50); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      echo "Dockerfile: image built; it runs as $user and answers /readyz"
      exit 0
    fi
    sleep 0.2
  done
  echo "Dockerfile: the image did not answer /readyz"; docker logs "tickroom-check-$$"; exit 1
fi
out=$(node node_modules/dockerfile-utils/bin/dockerfile-utils lint Dockerfile 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "Dockerfile: dockerfile-utils lint:"; echo "$out"; exit 1
fi
echo "Dockerfile: lint clean (dockerfile-utils); image build skipped: no Docker daemon here"
