import { ValidateBy, type ValidationOptions } from '../internals/class-validator.js';

/** `data` must be a JSON object or array (PHP encodes an empty array as `[]`). */
export function IsJsonContainer(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isJsonContainer',
      validator: {
        validate: (value: unknown) => typeof value === 'object' && value !== null,
        defaultMessage: () => 'data must be an object or an array',
      },
    },
    options,
  );
}

/**
 * A string must be well-formed Unicode: a lone UTF-16 surrogate (JSON can carry one, `"\ud800"`)
 * does not survive UTF-8, which the Redis adapter, Redis and logs speak, so the same name would
 * reach other nodes as U+FFFD. Other types pass (their type check reports them).
 */
export function IsWellFormedString(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWellFormedString',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || value.isWellFormed(),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`,
      },
    },
    options,
  );
}

/** Refuses values nested deeper than `max` levels, without recursion (so no stack overflow). */
export function MaxJsonDepth(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonDepth',
      constraints: [max],
      validator: {
        validate: (value: unknown) => jsonDepth(value, max) <= max,
        defaultMessage: () => `data must not be nested deeper than ${max} levels`,
      },
    },
    options,
  );
}

/** Depth of a parsed JSON value, stopping early once `limit` is exceeded. */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}
