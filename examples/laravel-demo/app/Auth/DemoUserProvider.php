<?php

declare(strict_types=1);

namespace App\Auth;

use Illuminate\Auth\GenericUser;
use Illuminate\Contracts\Auth\Authenticatable;
use Illuminate\Contracts\Auth\UserProvider;

/** The demo's users, fixed in code; a real app's `eloquent` provider reads them from its database. */
class DemoUserProvider implements UserProvider
{
    private const USERS = [
        1 => ['name' => 'Ada Lovelace', 'email' => 'ada@example.com'],
        2 => ['name' => 'Grace Hopper', 'email' => 'grace@example.com'],
    ];

    public function retrieveById($identifier): ?Authenticatable
    {
        $user = self::USERS[(int) $identifier] ?? null;

        return $user ? new GenericUser(['id' => (int) $identifier, 'remember_token' => null] + $user) : null;
    }

    public function retrieveByToken($identifier, $token): ?Authenticatable
    {
        return null; // no "remember me" in the demo
    }

    public function updateRememberToken(Authenticatable $user, $token): void
    {
    }

    public function retrieveByCredentials(array $credentials): ?Authenticatable
    {
        return null; // the demo logs in by QR code only
    }

    public function validateCredentials(Authenticatable $user, array $credentials): bool
    {
        return false;
    }
}
