<?php

declare(strict_types=1);

namespace App\Providers;

use App\Auth\DemoUserProvider;
use App\Auth\QrLogin;
use Illuminate\Auth\GenericUser;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AuthServiceProvider extends ServiceProvider
{
    public function boot(): void
    {
        // Two demo users instead of a users table: Debian's PHP here has no PDO driver to spare.
        Auth::provider('demo', fn () => new DemoUserProvider());

        // The `qr` guard: a desktop showing a QR code is identified by the login token its session
        // holds, so /broadcasting/auth can let it (and only it) listen on private-login.<token>.
        Auth::viaRequest('qr-login', function (Request $request): ?GenericUser {
            $token = $request->hasSession() ? $request->session()->get(QrLogin::SESSION_KEY) : null;

            return is_string($token) ? new GenericUser(['id' => "qr-login:$token", 'login_token' => $token]) : null;
        });
    }
}
