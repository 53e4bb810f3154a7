#!/bin/sh
# Container entrypoint: advertise this container's own IP to the cluster runner
# (other nodes connect to it there) unless PLEXI_RUNNER_HOST is given explicitly.
set -eu

if [ -z "${PLEXI_RUNNER_HOST:-}" ]; then
  PLEXI_RUNNER_HOST="$(hostname -i | awk '{print $1}')"
  export PLEXI_RUNNER_HOST
fi

exec node dist/runtime/main.js "$@"
