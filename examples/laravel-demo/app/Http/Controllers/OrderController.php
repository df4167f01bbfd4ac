<?php

declare(strict_types=1);

namespace App\Http\Controllers;

use App\Orders\Orders;
use Illuminate\Http\RedirectResponse;
use Illuminate\Http\Request;
use Illuminate\View\View;

class OrderController
{
    public function __construct(private Orders $orders)
    {
    }

    public function home(Request $request): View
    {
        return view('home', ['user' => $request->user()]);
    }

    public function store(Request $request): RedirectResponse
    {
        $order = $this->orders->create($request->user()->id, 'Analytical Engine, punched cards (x100)', '42.00 EUR');

        return redirect()->route('orders.show', ['order' => $order->id]);
    }

    /** The order page: its status now, and Echo listening for OrderPaid on the order's private channel. */
    public function show(Request $request, int $order): View
    {
        $found = $this->orders->find($order);
        abort_if($found === null || $found->userId !== $request->user()->id, 404);

        return view('order', ['order' => $found]);
    }
}
