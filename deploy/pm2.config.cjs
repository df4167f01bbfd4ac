// pm2 for echo-relay installed with `npm install -g ./echo-relay-<version>.tgz`; the one-line form is
//   pm2 start echo-relay --kill-timeout 15000 -- --config /etc/echo-relay/laravel-echo-server.json
// or `pm2 start deploy/pm2.config.cjs`. One process per instance: several nodes share Redis (see
// "Running several nodes" in the README) rather than pm2's cluster mode, which socket.io's
// long-polling cannot use without sticky sessions.
module.exports = {
  apps: [
    {
      name: 'echo-relay',
      script: 'echo-relay',
      args: '--config /etc/echo-relay/laravel-echo-server.json',
      exec_mode: 'fork',
      instances: 1,
      // pm2 sends SIGINT, which echo-relay handles like SIGTERM; leave it the graceful stop's 10 s.
      kill_timeout: 15000,
      env: { ECHO_RELAY_LOG_FORMAT: 'json' },
    },
  ],
};
