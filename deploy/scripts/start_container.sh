#!/usr/bin/env bash
# ApplicationStart: pull the image named in image.env from ECR and run it, port 80 -> 8000.
# Secrets (tracking URI and credentials, API token) come from SSM Parameter Store under
# the stack's prefix, read with the instance role, and go to the container through an
# env file on tmpfs that only root can read: never in the revision, never on disk.
set -euo pipefail
# shellcheck source=deploy/scripts/common.sh
. "$(dirname "$0")/common.sh"

image_env="${REVISION_DIR}/image.env"
[ -r "${image_env}" ] || die "${image_env} is missing: CI writes it into the revision (IMAGE_URI=...)"
IMAGE_URI="$(sed -n 's/^IMAGE_URI=//p' "${image_env}")"
[ -n "${IMAGE_URI}" ] || die "${image_env} has no IMAGE_URI line"

region="$(instance_region)"
registry="${IMAGE_URI%%/*}"
log "logging in to ${registry}"
aws ecr get-login-password --region "${region}" | docker login --username AWS --password-stdin "${registry}" >/dev/null
log "pulling ${IMAGE_URI}"
docker pull --quiet "${IMAGE_URI}" >/dev/null

env_file="$(mktemp /run/carprice-env.XXXXXX)"
chmod 600 "${env_file}"
trap 'rm -f "${env_file}"' EXIT
# Each parameter /carprice/NAME becomes NAME=value; only names the API declares are passed.
aws ssm get-parameters-by-path --region "${region}" --path "${SSM_PREFIX}" --with-decryption \
  --query 'Parameters[].[Name,Value]' --output text |
  while IFS=$'\t' read -r name value; do
    key="${name##*/}"
    case "${key}" in
      MLFLOW_TRACKING_URI | MLFLOW_TRACKING_USERNAME | MLFLOW_TRACKING_PASSWORD | MLFLOW_TRACKING_TOKEN | CARPRICE_API_TOKEN | CARPRICE_MODEL_URI)
        printf '%s=%s\n' "${key}" "${value}" >>"${env_file}"
        ;;
      *) log "ignoring SSM parameter ${key} (not a setting of the API)" ;;
    esac
  done

docker rm -f "${CONTAINER_NAME}" >/dev/null 2>&1 || true
log "starting ${CONTAINER_NAME} on :${HOST_PORT}"
docker run -d --name "${CONTAINER_NAME}" --restart unless-stopped \
  --env-file "${env_file}" -p "${HOST_PORT}:${CONTAINER_PORT}" \
  --log-opt max-size=20m --log-opt max-file=5 \
  "${IMAGE_URI}" >/dev/null
