#!/usr/bin/env bash
# ValidateService: the deployment passes only when /ready answers 200 (model loaded and a
# warm-up prediction made) within the deadline; otherwise it fails with the container's
# log, and CodeDeploy rolls back.
set -euo pipefail
# shellcheck source=deploy/scripts/common.sh
. "$(dirname "$0")/common.sh"

deadline=$((SECONDS + READY_DEADLINE_S))
while ((SECONDS < deadline)); do
  if curl -fsS --max-time 2 "${READY_URL}" >/dev/null 2>&1; then
    log "ready after $((SECONDS))s: ${READY_URL}"
    exit 0
  fi
  if ! docker container inspect -f '{{.State.Running}}' "${CONTAINER_NAME}" 2>/dev/null | grep -q true; then
    log "${CONTAINER_NAME} is not running"
    break
  fi
  sleep 2
done
log "not ready within ${READY_DEADLINE_S}s: ${READY_URL}; last lines of the container log:"
docker logs --tail 100 "${CONTAINER_NAME}" >&2 || true
exit 1
