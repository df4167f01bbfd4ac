<?php

// Laravel 8's bootstrap/app.php, with one difference: no Composer. The framework and its
// dependencies come from Debian's php-laravel-framework package, and the app's own classes load
// from app/ by the PSR-4 rule composer.json would declare ("App\\": "app/").

declare(strict_types=1);

require '/usr/share/php/Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    if (str_starts_with($class, 'App\\')) {
        require __DIR__.'/../app/'.str_replace('\\', '/', substr($class, 4)).'.php';
    }
});

$app = new Illuminate\Foundation\Application(dirname(__DIR__));

$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, App\Exceptions\Handler::class);

return $app;
