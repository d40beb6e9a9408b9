#!/usr/bin/env bash
# ApplicationStop: stop the running API container gracefully (SIGTERM, in-flight requests
# finish), then remove it. Succeeds when there is nothing to stop (first deployment).
set -euo pipefail
# shellcheck source=deploy/scripts/common.sh
. "$(dirname "$0")/common.sh"

if docker container inspect "${CONTAINER_NAME}" >/dev/null 2>&1; then
  log "stopping ${CONTAINER_NAME}"
  docker stop --time 30 "${CONTAINER_NAME}" >/dev/null || true
  docker rm -f "${CONTAINER_NAME}" >/dev/null
else
  log "no ${CONTAINER_NAME} container running"
fi
