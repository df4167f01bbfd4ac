<?php

declare(strict_types=1);

namespace App\Events;

use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/** Tells the desktop showing the QR code that a phone approved it: the page then completes the login. */
class LoginApproved implements ShouldBroadcastNow
{
    public function __construct(private string $token, private string $approvedBy)
    {
    }

    public function broadcastOn(): PrivateChannel
    {
        return new PrivateChannel("login.{$this->token}");
    }

    /** Who approved, for the page to show; never anything that would log anyone in. */
    public function broadcastWith(): array
    {
        return ['approved_by' => $this->approvedBy];
    }
}
