<?php

return [
    'driver' => 'redis',
    'connection' => 'default',
    'lifetime' => 120,
    'expire_on_close' => false,
    'encrypt' => false,
    'lottery' => [2, 100],
    // The browser sends this cookie to echo-relay's socket.io handshake too (same host, another
    // port), and echo-relay forwards it to /broadcasting/auth: that is how Laravel knows who asks.
    'cookie' => 'laravel_demo_session',
    'path' => '/',
    'domain' => null,
    'secure' => false,
    'http_only' => true,
    'same_site' => 'lax',
];
