#!/usr/bin/env bash
# Shared settings of the CodeDeploy hook scripts (sourced, not run).
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
CONTAINER_NAME="${CARPRICE_CONTAINER_NAME:-carprice}"
REVISION_DIR="${CARPRICE_REVISION_DIR:-/opt/carprice/revision}"
HOST_PORT="${CARPRICE_HOST_PORT:-80}"
CONTAINER_PORT="${CARPRICE_CONTAINER_PORT:-8000}"
SSM_PREFIX="${CARPRICE_SSM_PREFIX:-/carprice/}"
READY_URL="${CARPRICE_READY_URL:-http://127.0.0.1:${HOST_PORT}/ready}"
READY_DEADLINE_S="${CARPRICE_READY_DEADLINE_S:-180}"

log() { printf '[carprice-deploy] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The instance's region, from IMDSv2 (the launch template requires tokens).
instance_region() {
  local token
  token="$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" ||
    die "cannot reach the instance metadata service (IMDSv2)"
  curl -fsS -H "X-aws-ec2-metadata-token: ${token}" http://169.254.169.254/latest/meta-data/placement/region
}
