<?php

// The demo's events implement ShouldBroadcastNow: they are published during the request.
return [
    'default' => 'sync',
    'connections' => ['sync' => ['driver' => 'sync']],
];
