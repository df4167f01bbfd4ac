<?php

declare(strict_types=1);

namespace App\Http\Controllers;

use App\Auth\QrLogin;
use App\Events\LoginApproved;
use App\Support\QrCode;
use Illuminate\Http\RedirectResponse;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use Illuminate\Support\Facades\Auth;
use Illuminate\View\View;

class QrLoginController
{
    public function __construct(private QrLogin $qrLogin)
    {
    }

    /** The desktop: a QR code of the one-time URL, and Echo listening for its approval. */
    public function show(Request $request): View
    {
        $token = $this->qrLogin->start($request->session());
        $url = route('qr.scan', ['token' => $token]);

        return view('login', ['token' => $token, 'url' => $url, 'qrSvg' => QrCode::svg($url)]);
    }

    /**
     * The phone opens the code's URL. A real phone is signed in and approves for its own user
     * (`$request->user()` through its session or API token); the demo's phone is always Ada's.
     */
    public function scan(string $token): Response
    {
        $user = Auth::guard('web')->getProvider()->retrieveById(1);
        if (! $this->qrLogin->approve($token, $user->id)) {
            return response('This code is unknown, expired or already used.', 410);
        }
        broadcast(new LoginApproved($token, $user->name));

        return response("Approved: the desktop is being logged in as {$user->name}.");
    }

    /** The desktop page posts here once it heard LoginApproved. */
    public function complete(Request $request): RedirectResponse
    {
        $userId = $this->qrLogin->complete($request->session());
        if ($userId === null) {
            return redirect()->route('login');
        }
        Auth::loginUsingId($userId);
        $request->session()->regenerate(); // a new session id for the now logged-in session

        return redirect()->route('home');
    }

    public function logout(Request $request): RedirectResponse
    {
        Auth::logout();
        $request->session()->invalidate();

        return redirect()->route('login');
    }
}
