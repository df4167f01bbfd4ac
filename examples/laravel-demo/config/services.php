<?php

return [
    // Where the pages' Laravel Echo finds echo-relay: the page's own host name, this port.
    'echo_relay' => ['port' => (int) env('ECHO_PORT', 6001)],

    // The payment provider signs its callbacks with this shared secret (HMAC-SHA256 of the body).
    'payments' => ['webhook_secret' => env('PAYMENT_WEBHOOK_SECRET', 'demo-webhook-secret')],
];
