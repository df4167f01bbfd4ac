<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>@yield('title') · echo-relay demo</title>
  {{-- Laravel Echo sends this as X-CSRF-TOKEN; echo-relay forwards it to /broadcasting/auth. --}}
  <meta name="csrf-token" content="{{ csrf_token() }}">
  <link rel="icon" href="data:,">
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; color: #1f2937; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
    h1 { font-size: 1.5rem; }
    .card { border: 1px solid #e5e7eb; border-radius: .5rem; padding: 1.5rem; }
    .status { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-weight: 600; }
    .pending { background: #fef3c7; color: #92400e; }
    .paid { background: #d1fae5; color: #065f46; }
    code { background: #f3f4f6; padding: .1rem .3rem; border-radius: .25rem; font-size: .85em; word-break: break-all; }
    .qr-card { display: flex; gap: 1.5rem; align-items: center; }
    .qr-card svg { display: block; width: 12rem; height: 12rem; }
    button { font: inherit; padding: .4rem 1rem; }
  </style>
  {{-- The socket.io client from echo-relay itself, Echo's browser build, one connection per page. --}}
  <script src="//{{ request()->getHost() }}:{{ config('services.echo_relay.port') }}/socket.io/socket.io.js"></script>
  <script src="/js/echo.iife.js"></script>
  <script>
    window.Echo = new Echo.default({
      broadcaster: 'socket.io',
      host: window.location.hostname + ':{{ config('services.echo_relay.port') }}',
      client: io,
      // The handshake starts with HTTP long-polling, cross-origin (another port): without this the
      // browser leaves the session cookie out, and /broadcasting/auth sees a guest.
      withCredentials: true,
    });
  </script>
</head>
<body>
  @yield('content')
  @stack('scripts')
</body>
</html>
