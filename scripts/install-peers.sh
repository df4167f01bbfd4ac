#!/usr/bin/env bash
# Installs the real peers the end-to-end specs drive when present: a Laravel app (PHP CLI, the
# framework and the phpredis extension, all Debian packages), a headless Chromium, and zbar's
# zbarimg, which reads the demo's QR code as a phone's camera would (test/e2e/demo.e2e.test.ts).
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

need=()
command -v php >/dev/null 2>&1 || need+=(php-cli)
dpkg -s php-laravel-framework >/dev/null 2>&1 || need+=(php-laravel-framework)
# Not `php -m | grep -q`: with pipefail, grep closing the pipe early fails the check.
php -r 'exit(extension_loaded("redis") ? 0 : 1);' >/dev/null 2>&1 || need+=(php-redis)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-peers: php, laravel, php-redis, chromium and zbarimg already present"
  exit 0
fi
echo "install-peers: installing ${need[*]} from Debian packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
