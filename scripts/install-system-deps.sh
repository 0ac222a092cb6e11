#!/usr/bin/env bash
# Installs the Debian packages that Strait's tests and benchmarks talk to as real peers:
# curl and openssl (clients), nginx and haproxy (benchmark peers), wrk and h2load (load),
# sslscan (TLS posture of the proxies: versions and ciphers offered), prometheus (scrapes the
# proxies in the metrics e2e test; brings promtool), chromium (the dashboard's browser test
# drives Debian's headless Chromium through playwright-core; no browser is downloaded).
# Safe to run twice; needs root (or sudo) and Debian's package index.
set -euo pipefail
pkgs=(curl openssl nginx-light haproxy wrk nghttp2-client sslscan prometheus chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${pkgs[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
