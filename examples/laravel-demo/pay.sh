#!/usr/bin/env bash
# Plays the payment provider: confirms order <id> with a signed callback to the running demo.
#   examples/laravel-demo/pay.sh 1001
set -euo pipefail

order=${1:?usage: pay.sh <order id>}
secret=${PAYMENT_WEBHOOK_SECRET:-demo-webhook-secret}
body="{\"order_id\":$order,\"status\":\"paid\"}"
signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)

curl -sS -w '%{http_code}\n' -H 'Content-Type: application/json' -H "X-Signature: $signature" \
  -d "$body" "http://${DEMO_HOST:-127.0.0.1}:${DEMO_APP_PORT:-8000}/webhooks/payments"
