#!/usr/bin/env bash
# Checks (and on Debian, installs) the external tools the benchmark needs: wrk (HTTP load
# generator) and nginx (the reference reverse proxy). Called by bench/run.mjs before any run.
# Exit 0 when both are usable; otherwise a clear message and exit 1.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then missing+=(nginx-light); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup.sh: missing ${missing[*]}; installing from Debian packages" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/setup.sh: no apt-get here. Install wrk and nginx yourself (e.g. 'brew install wrk nginx'), then rerun." >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "bench/setup.sh: not root and no sudo: run 'apt-get update && apt-get install -y wrk nginx-light' as root, then rerun." >&2
      exit 1
    fi
  fi
  # The package's post-install may try to start a system nginx; the bench never uses it and
  # starts its own nginx as a child process on a loopback port.
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  if ! $SUDO apt-get install -y -qq "${missing[@]}" >&2; then
    # nginx-light is Debian's small build; fall back to the full package on distributions without it.
    $SUDO apt-get install -y -qq wrk nginx >&2 || { echo "bench/setup.sh: apt-get install failed" >&2; exit 1; }
  fi
fi

command -v wrk >/dev/null 2>&1 || { echo "bench/setup.sh: wrk still not found on PATH" >&2; exit 1; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX" ] || { echo "bench/setup.sh: nginx still not found" >&2; exit 1; }
# Report what will be used (stdout is read by run.mjs: one "name=value" per line).
echo "wrk=$(command -v wrk)"
echo "nginx=$NGINX"
echo "nginx_version=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
