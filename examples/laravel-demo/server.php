<?php

// Router for PHP's built-in server (`php -S 127.0.0.1:8000 server.php`, what `artisan serve` runs):
// files in public/ as they are, everything else through Laravel. Laravel Echo's browser build is
// served from the repository's node_modules, where an app would serve its own compiled bundle.

declare(strict_types=1);

$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?: '/');

if ($path === '/js/echo.iife.js') {
    header('Content-Type: text/javascript');
    readfile(__DIR__.'/../../node_modules/laravel-echo/dist/echo.iife.js');

    return true;
}
if ($path !== '/' && is_file(__DIR__.'/public'.$path)) {
    return false;
}

require __DIR__.'/public/index.php';
