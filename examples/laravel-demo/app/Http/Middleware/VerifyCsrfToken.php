<?php

declare(strict_types=1);

namespace App\Http\Middleware;

use Illuminate\Foundation\Http\Middleware\VerifyCsrfToken as Middleware;

class VerifyCsrfToken extends Middleware
{
    /** The payment provider has no CSRF token: its callback is verified by its signature instead. */
    protected $except = ['webhooks/*'];
}
