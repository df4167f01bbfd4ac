import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { looksPrefixed, stripPrefix, subscriptionPattern } from './laravel-prefix.js';

describe('Laravel channel prefix', () => {
  it('strips the configured prefix only at the start', () => {
    assert.equal(stripPrefix('laravel_database_orders', 'laravel_database_'), 'orders');
    assert.equal(stripPrefix('laravel-database-private-orders.1', 'laravel-database-'), 'private-orders.1');
    assert.equal(stripPrefix('orders', ''), 'orders');
    assert.equal(stripPrefix('other_orders', 'laravel_database_'), 'other_orders');
  });

  it('subscribes to <prefix>* with glob characters escaped', () => {
    assert.equal(subscriptionPattern('laravel_database_'), 'laravel_database_*');
    assert.equal(subscriptionPattern(''), '*');
    assert.equal(subscriptionPattern('app[1]?'), 'app\\[1\\]\\?*');
  });

  it('recognises channel names that still carry a Laravel prefix', () => {
    for (const name of [
      'laravel_database_orders',
      'laravel-database-orders',
      'my-shop-database-private-x',
      'shop_database_a',
    ]) {
      assert.equal(looksPrefixed(name), true, name);
    }
    for (const name of ['orders', 'private-orders.1', 'presence-database', 'App.Models.User.1']) {
      assert.equal(looksPrefixed(name), false, name);
    }
  });
});
