<?php

use App\Http\Controllers\OrderController;
use App\Http\Controllers\PaymentWebhookController;
use App\Http\Controllers\QrLoginController;
use Illuminate\Support\Facades\Route;

Route::redirect('/', '/home');

// Flow (a): QR login.
Route::get('/login', [QrLoginController::class, 'show'])->middleware('guest')->name('login');
Route::get('/qr/{token}', [QrLoginController::class, 'scan'])->name('qr.scan');
Route::post('/login/qr', [QrLoginController::class, 'complete'])->name('login.complete');
Route::post('/logout', [QrLoginController::class, 'logout'])->name('logout');

// Flow (b): an order that turns "paid" when the payment provider calls back.
Route::middleware('auth')->group(function (): void {
    Route::get('/home', [OrderController::class, 'home'])->name('home');
    Route::post('/orders', [OrderController::class, 'store'])->name('orders.store');
    Route::get('/orders/{order}', [OrderController::class, 'show'])->whereNumber('order')->name('orders.show');
});
Route::post('/webhooks/payments', PaymentWebhookController::class)->name('webhooks.payments');
