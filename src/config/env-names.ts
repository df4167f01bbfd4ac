import { CONFIG_KEYS } from './config-keys.js';
import type { Findings } from './config-shapes.js';
import { closestKey } from './suggest.js';

/** Prefixes of the variables echo-relay (and laravel-echo-server before it) reads. */
const OWN_PREFIXES = ['ECHO_RELAY_', 'LARAVEL_ECHO_SERVER_'];

/**
 * Variables named like ours that set nothing: a near miss of one we read (`ECHO_RELAY_LOG_LEVL`)
 * stops startup with the suggestion, others get a warning. Names only: the environment also
 * holds other programs' variables, and their values are none of our business.
 */
export function checkEnvNames(env: NodeJS.ProcessEnv, found: Findings): void {
  const known = CONFIG_KEYS.flatMap((k) => k.env);
  for (const name of Object.keys(env)) {
    if (!OWN_PREFIXES.some((prefix) => name.startsWith(prefix)) || known.includes(name)) continue;
    const suggestion = closestKey(name, known);
    if (suggestion) found.problems.push(`env ${name}: unknown variable, did you mean ${suggestion}?`);
    else found.warnings.push(`env ${name} is not a setting of echo-relay and is ignored`);
  }
}
