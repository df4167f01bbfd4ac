<?php

use Illuminate\Support\Str;

// Only Redis: it carries the broadcasts to echo-relay and keeps the demo's state (cache, sessions).
return [
    'redis' => [
        'client' => env('REDIS_CLIENT', 'phpredis'),

        'options' => [
            // Laravel 8's default: echo-relay is told the same (REDIS_PREFIX, keyPrefix).
            'prefix' => env('REDIS_PREFIX', Str::slug(env('APP_NAME', 'laravel'), '_').'_database_'),
        ],

        'default' => [
            'host' => env('REDIS_HOST', '127.0.0.1'),
            'port' => env('REDIS_PORT', '6379'),
            'database' => env('REDIS_DB', '0'),
        ],
    ],
];
