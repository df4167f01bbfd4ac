/**
 * The class-validator 0.15.1 members echo-relay uses, each loaded from its own file under
 * `class-validator/cjs/` instead of the package index. The index loads every decorator, and with
 * them all of validator.js and libphonenumber-js (about 320 modules): measured with
 * `bench/boot.mjs`, that was a large part of the start-up time and of the RSS before any client.
 * The files are the very ones the index re-exports (same module instances, same metadata
 * storage), so decorators applied through here and `validateSync` from the index see each other.
 *
 * Import class-validator only through this module. A member missing here is added with the file
 * the index takes it from (`node_modules/class-validator/cjs/index.js` and
 * `decorator/decorators.js`); ./class-validator.contract.test.ts checks that every member is the
 * index's own.
 */
import { createRequire } from 'node:module';
import type * as ClassValidator from 'class-validator';

export type { ValidationArguments, ValidationError, ValidationOptions } from 'class-validator';

type Index = typeof ClassValidator;
const require = createRequire(import.meta.url);

/** `name` as exported by `class-validator/cjs/<file>.js`. */
function member<K extends keyof Index>(file: string, name: K): Index[K] {
  return (require(`class-validator/cjs/${file}.js`) as Index)[name];
}

/** Where each member lives, relative to `class-validator/cjs/`; the contract spec reads this too. */
export const MEMBER_FILES = {
  IsArray: 'decorator/typechecker/IsArray',
  IsBoolean: 'decorator/typechecker/IsBoolean',
  IsIn: 'decorator/common/IsIn',
  IsInt: 'decorator/typechecker/IsInt',
  IsNotEmpty: 'decorator/common/IsNotEmpty',
  IsObject: 'decorator/typechecker/IsObject',
  IsOptional: 'decorator/common/IsOptional',
  IsString: 'decorator/typechecker/IsString',
  Max: 'decorator/number/Max',
  MaxLength: 'decorator/string/MaxLength',
  Min: 'decorator/number/Min',
  ValidateBy: 'decorator/common/ValidateBy',
  ValidateNested: 'decorator/common/ValidateNested',
  ValidationTypes: 'validation/ValidationTypes',
  getMetadataStorage: 'metadata/MetadataStorage',
  Validator: 'validation/Validator',
  getFromContainer: 'container',
} as const satisfies Partial<Record<keyof Index, string>>;

export const IsArray = member(MEMBER_FILES.IsArray, 'IsArray');
export const IsBoolean = member(MEMBER_FILES.IsBoolean, 'IsBoolean');
export const IsIn = member(MEMBER_FILES.IsIn, 'IsIn');
export const IsInt = member(MEMBER_FILES.IsInt, 'IsInt');
export const IsNotEmpty = member(MEMBER_FILES.IsNotEmpty, 'IsNotEmpty');
export const IsObject = member(MEMBER_FILES.IsObject, 'IsObject');
export const IsOptional = member(MEMBER_FILES.IsOptional, 'IsOptional');
export const IsString = member(MEMBER_FILES.IsString, 'IsString');
export const Max = member(MEMBER_FILES.Max, 'Max');
export const MaxLength = member(MEMBER_FILES.MaxLength, 'MaxLength');
export const Min = member(MEMBER_FILES.Min, 'Min');
export const ValidateBy = member(MEMBER_FILES.ValidateBy, 'ValidateBy');
export const ValidateNested = member(MEMBER_FILES.ValidateNested, 'ValidateNested');
export const ValidationTypes = member(MEMBER_FILES.ValidationTypes, 'ValidationTypes');
export const getMetadataStorage = member(MEMBER_FILES.getMetadataStorage, 'getMetadataStorage');

const Validator = member(MEMBER_FILES.Validator, 'Validator');
const getFromContainer = member(MEMBER_FILES.getFromContainer, 'getFromContainer');

/**
 * The index's `validateSync(object, options)`, which lives in the index file itself: the
 * container's Validator, as there (a `useContainer` call would swap it the same way).
 */
export function validateSync(
  object: object,
  validatorOptions?: ClassValidator.ValidatorOptions,
): ClassValidator.ValidationError[] {
  return getFromContainer(Validator).validateSync(object, validatorOptions);
}
