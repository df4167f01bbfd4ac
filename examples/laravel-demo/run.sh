#!/usr/bin/env bash
# Starts the whole demo in one terminal: a Redis of its own, echo-relay (the repository's build) and
# the Laravel app on PHP's built-in server. Ctrl-C stops all three.
#
#   examples/laravel-demo/run.sh      then open http://127.0.0.1:8000
#
# Ports: DEMO_APP_PORT (8000), DEMO_RELAY_PORT (6001), DEMO_REDIS_PORT (6380). A Redis already
# answering on DEMO_REDIS_PORT is used as it is. The app and echo-relay listen on DEMO_HOST
# (127.0.0.1); to scan the code with a real phone, give this machine's address on the phone's
# network and open http://<that address>:8000 on the desktop: the code holds the URL the desktop used. Needs Node 24+, redis-server, and Debian's php-cli,
# php-laravel-framework and php-redis (scripts/install-peers.sh installs the last three).
set -euo pipefail

demo=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$demo/../.." && pwd)
app_port=${DEMO_APP_PORT:-8000}
relay_port=${DEMO_RELAY_PORT:-6001}
redis_port=${DEMO_REDIS_PORT:-6380}
host=${DEMO_HOST:-127.0.0.1}
app_url="http://$host:$app_port"

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait
}
trap stop EXIT INT TERM

redis_answers() { [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; }

if redis_answers; then
  echo "demo: using the Redis already on port $redis_port"
else
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning &
  pids+=($!)
  until redis_answers; do sleep 0.1; done
fi

[ -f "$root/dist/echo-relay.mjs" ] || (cd "$root" && npm run build)
[ -f "$root/node_modules/laravel-echo/dist/echo.iife.js" ] || { echo "demo: run npm ci first" >&2; exit 1; }

# The config file is what an operator would write; the environment adapts it to the chosen ports.
ECHO_RELAY_HOST=$host PORT=$relay_port REDIS_PORT=$redis_port ECHO_RELAY_AUTH_HOST=$app_url \
  ECHO_RELAY_ALLOWED_ORIGINS="$app_url,http://localhost:$app_port" \
  ECHO_RELAY_LOG_FORMAT=${ECHO_RELAY_LOG_FORMAT:-pretty} node "$root/dist/echo-relay.mjs" --config "$demo/laravel-echo-server.json" &
pids+=($!)

# Laravel's .env, as variables. A fresh APP_KEY per run: sessions end with the demo.
APP_KEY="base64:$(head -c 32 /dev/urandom | base64)" APP_URL=$app_url ECHO_PORT=$relay_port \
  REDIS_PORT=$redis_port REDIS_PREFIX=laravel_database_ \
  php -S "$host:$app_port" -t "$demo/public" "$demo/server.php" &
pids+=($!)

echo "demo: open $app_url (echo-relay on $host:$relay_port, Redis on :$redis_port); Ctrl-C stops it"
# Whichever stops first (a port in use, a crash) stops the demo.
wait -n
