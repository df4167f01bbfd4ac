<?php

declare(strict_types=1);

namespace App\Events;

use App\Orders\Order;
use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/** The payment provider confirmed an order: its page, open in the buyer's browser, turns "paid". */
class OrderPaid implements ShouldBroadcastNow
{
    public function __construct(private Order $order)
    {
    }

    public function broadcastOn(): PrivateChannel
    {
        return new PrivateChannel("orders.{$this->order->id}");
    }

    public function broadcastWith(): array
    {
        return ['id' => $this->order->id, 'status' => $this->order->status, 'paid_at' => $this->order->paidAt];
    }
}
