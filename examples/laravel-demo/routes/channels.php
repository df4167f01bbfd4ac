<?php

// Who may listen on which private channel: echo-relay asks /broadcasting/auth on every subscribe,
// forwarding the browser's session cookie, and Laravel answers with these rules.

use App\Orders\Orders;
use Illuminate\Support\Facades\Broadcast;

// The desktop showing a QR code, through the `qr` guard: only the session holding the token.
Broadcast::channel('login.{token}', function ($desktop, string $token): bool {
    return hash_equals($desktop->login_token, $token);
}, ['guards' => ['qr']]);

// An order's page: only its buyer.
Broadcast::channel('orders.{orderId}', function ($user, string $orderId): bool {
    return app(Orders::class)->find((int) $orderId)?->userId === $user->id;
});
