<?php

declare(strict_types=1);

namespace App\Http\Controllers;

use App\Events\OrderPaid;
use App\Orders\Orders;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use Illuminate\Support\Facades\Log;

/**
 * The payment provider's callback: POST /webhooks/payments, JSON {"order_id": 1001, "status": "paid"},
 * signed with `X-Signature: hex(HMAC-SHA256(body, PAYMENT_WEBHOOK_SECRET))`.
 */
class PaymentWebhookController
{
    public function __construct(private Orders $orders)
    {
    }

    public function __invoke(Request $request): Response
    {
        $expected = hash_hmac('sha256', $request->getContent(), (string) config('services.payments.webhook_secret'));
        if (! hash_equals($expected, (string) $request->header('X-Signature'))) {
            Log::warning('payment callback refused: bad signature', ['ip' => $request->ip()]);

            return response('Invalid signature', 401);
        }
        $orderId = $request->json('order_id');
        if (! is_int($orderId) || $request->json('status') !== 'paid') {
            return response('Expected {"order_id": <int>, "status": "paid"}', 422);
        }
        $order = $this->orders->find($orderId);
        if ($order === null) {
            return response('Unknown order', 404);
        }
        if ($this->orders->markPaid($order)) {
            broadcast(new OrderPaid($order));
        }

        return response('', 204);
    }
}
