<?php

declare(strict_types=1);

namespace App\Orders;

/** An order as the demo keeps it: who bought what, and whether the payment provider confirmed it. */
class Order
{
    public function __construct(
        public int $id,
        public int $userId,
        public string $item,
        public string $total,
        public string $status = 'pending',
        public ?string $paidAt = null,
    ) {
    }
}
