import { getMetadataStorage, ValidationTypes, type ValidationArguments } from '../internals/class-validator.js';

type Condition = (object: object, value: unknown) => boolean;
type Check = (object: object, value: unknown) => boolean;

/**
 * True when `validateSync(object)` would report no error, decided with the very constraints
 * class-validator registered for the class, looked up once instead of on every call.
 *
 * `validateSync` looks the class's metadata up again for every object it validates, walking every
 * class the process has registered (echo-relay's config classes included), and builds an error
 * object per property even when all pass: on the Redis hot path that cost more than parsing the
 * message. This runs the same constraint implementations with the same arguments and the same
 * `@IsOptional` / `validateIf` conditions, for the classes it can reproduce exactly (custom and
 * conditional validations, no `each`, no async); for any other class it returns undefined and the
 * caller uses `validateSync` alone. A `false` is only a hint: the caller then runs `validateSync`,
 * whose errors are the ones reported, so refusals and their messages stay class-validator's own.
 */
export function compileAcceptor(target: new () => object): ((object: object) => boolean) | undefined {
  const storage = getMetadataStorage();
  // The same lookup validateSync makes with default options (no groups, always false).
  const metadatas = storage.getTargetValidationMetadatas(target, '', false, false, undefined);
  if (metadatas.length === 0) return undefined;
  const properties = new Map<string, { conditions: Condition[]; checks: Check[] }>();
  for (const metadata of metadatas) {
    const entry = properties.get(metadata.propertyName) ?? { conditions: [], checks: [] };
    properties.set(metadata.propertyName, entry);
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      entry.conditions.push(metadata.constraints[0] as Condition);
      continue;
    }
    if (metadata.type !== ValidationTypes.CUSTOM_VALIDATION || metadata.each) return undefined;
    for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
      if (constraint.async) return undefined;
      const { propertyName, constraints, validateIf } = metadata;
      entry.checks.push((object, value) => {
        if (validateIf && !validateIf(object, value)) return true;
        const args: ValidationArguments = {
          targetName: target.name,
          property: propertyName,
          object,
          value,
          constraints,
        };
        return constraint.instance.validate(value, args) === true;
      });
    }
  }
  const plan = [...properties].map(([property, { conditions, checks }]) => ({ property, conditions, checks }));
  return (object) => {
    properties: for (const { property, conditions, checks } of plan) {
      const value = (object as Record<string, unknown>)[property];
      for (const condition of conditions) if (!condition(object, value)) continue properties;
      for (const check of checks) if (!check(object, value)) return false;
    }
    return true;
  };
}
