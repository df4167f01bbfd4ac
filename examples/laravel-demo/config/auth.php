<?php

return [
    'defaults' => ['guard' => 'web'],

    'guards' => [
        'web' => ['driver' => 'session', 'provider' => 'users'],
        // A desktop that shows a QR code is nobody yet; its session's login token is what may
        // listen for the approval (see AuthServiceProvider and routes/channels.php).
        'qr' => ['driver' => 'qr-login'],
    ],

    'providers' => [
        'users' => ['driver' => 'demo'],
    ],
];
