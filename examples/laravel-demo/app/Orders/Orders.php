<?php

declare(strict_types=1);

namespace App\Orders;

use Illuminate\Support\Facades\Cache;

/** The demo's orders, kept in the cache (Redis) for a day instead of a database table. */
class Orders
{
    private const TTL_SECONDS = 86400;

    public function create(int $userId, string $item, string $total): Order
    {
        $order = new Order(1000 + (int) Cache::increment('orders:last-id'), $userId, $item, $total);
        $this->save($order);

        return $order;
    }

    public function find(int $id): ?Order
    {
        $order = Cache::get("orders:$id");

        return $order instanceof Order ? $order : null;
    }

    /** Marks the order paid; false when it already was (providers retry their callbacks). */
    public function markPaid(Order $order): bool
    {
        // One winner per order even when two callbacks arrive at once.
        if (! Cache::add("orders:{$order->id}:paid", true, self::TTL_SECONDS)) {
            return false;
        }
        $order->status = 'paid';
        $order->paidAt = now()->toIso8601String();
        $this->save($order);

        return true;
    }

    private function save(Order $order): void
    {
        Cache::put("orders:{$order->id}", $order, self::TTL_SECONDS);
    }
}
