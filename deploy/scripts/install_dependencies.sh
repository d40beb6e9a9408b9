#!/usr/bin/env bash
# BeforeInstall: docker running and the AWS CLI present (the launch template's user data
# installs both; this makes a hand-made or older instance converge too).
set -euo pipefail
# shellcheck source=deploy/scripts/common.sh
. "$(dirname "$0")/common.sh"

if ! command -v docker >/dev/null 2>&1; then
  log "installing docker"
  if command -v dnf >/dev/null 2>&1; then dnf install -y docker; else yum install -y docker; fi
fi
systemctl enable --now docker
command -v aws >/dev/null 2>&1 || die "the AWS CLI is missing: install awscli v2 in the AMI or user data"
log "docker $(docker version --format '{{.Server.Version}}') and $(aws --version 2>&1 | cut -d' ' -f1) ready"
