<?php

declare(strict_types=1);

namespace App\Auth;

use Illuminate\Contracts\Session\Session;
use Illuminate\Support\Facades\Cache;
use Illuminate\Support\Str;

/**
 * Logging a desktop in from a phone. The desktop's session gets a one-time token, shown as a QR
 * code; the phone, already signed in, opens the token's URL ("scans" it) and so approves it for its
 * user; the desktop hears of it through a broadcast and then completes the login in its own request.
 * The broadcast carries no credential: only the session that holds the token can complete.
 */
class QrLogin
{
    public const SESSION_KEY = 'qr_login_token';

    /** How long a code can be scanned, and an approval completed. */
    private const TTL_SECONDS = 300;

    /** A fresh token for this desktop session, replacing any earlier one. */
    public function start(Session $session): string
    {
        $token = Str::random(40);
        Cache::put("qr-login:$token", 'pending', self::TTL_SECONDS);
        $session->put(self::SESSION_KEY, $token);

        return $token;
    }

    /** Approves `$token` for the user; false when it is unknown, expired or was already approved. */
    public function approve(string $token, int $userId): bool
    {
        // `add` is atomic in the Redis store: of two scans of one code, exactly one wins.
        return Cache::get("qr-login:$token") === 'pending'
            && Cache::add("qr-login:$token:user", $userId, self::TTL_SECONDS);
    }

    /** The user who approved this session's token, once; null when nobody has (yet). */
    public function complete(Session $session): ?int
    {
        $token = $session->get(self::SESSION_KEY);
        $userId = is_string($token) ? Cache::pull("qr-login:$token:user") : null;
        if ($userId === null) {
            return null;
        }
        Cache::forget("qr-login:$token");
        $session->forget(self::SESSION_KEY);

        return (int) $userId;
    }
}
