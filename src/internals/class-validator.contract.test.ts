/**
 * Contract of ./class-validator.ts with class-validator 0.15.1: every member it loads from a file
 * of its own is the package index's member (so decorators and validation share one metadata
 * storage), its `validateSync` answers as the index's does, and loading it leaves validator.js's
 * index and libphonenumber-js unloaded. A failure names the member; re-read
 * `node_modules/class-validator/cjs/index.js` and `decorator/decorators.js` for its new file.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as Index from 'class-validator';
import * as Internals from './class-validator.js';
import { versionMismatch } from './written-against.js';

const require = createRequire(import.meta.url);

describe('class-validator internals', () => {
  it('is the class-validator version the module was written against', () => {
    expect(versionMismatch('class-validator')).toBeUndefined();
  });

  for (const name of Object.keys(Internals.MEMBER_FILES) as (keyof typeof Internals.MEMBER_FILES)[]) {
    it(`class-validator/cjs/${Internals.MEMBER_FILES[name]}.js exports the index's ${name}`, () => {
      expect(typeof Index[name]).toBe('function');
      const file = require(`class-validator/cjs/${Internals.MEMBER_FILES[name]}.js`) as Record<string, unknown>;
      expect(file[name]).toBe(Index[name]);
      const own = (Internals as Record<string, unknown>)[name];
      if (own !== undefined) expect(own).toBe(Index[name]);
    });
  }

  it("validateSync answers as the index's, for decorators applied through either", () => {
    class Sample {
      @Internals.IsInt()
      @Internals.Min(1)
      count: unknown;

      @Index.IsString()
      @Internals.MaxLength(3)
      name: unknown;
    }
    const bad = Object.assign(new Sample(), { count: 0.5, name: 'long' });
    const good = Object.assign(new Sample(), { count: 2, name: 'ok' });
    const shape = (errors: Index.ValidationError[]) => errors.map((e) => [e.property, e.constraints]);
    expect(shape(Internals.validateSync(bad))).toEqual(shape(Index.validateSync(bad)));
    expect(shape(Internals.validateSync(bad, { stopAtFirstError: true }))).toEqual(
      shape(Index.validateSync(bad, { stopAtFirstError: true })),
    );
    expect(Internals.validateSync(bad)).toHaveLength(2);
    expect(Internals.validateSync(good)).toEqual([]);
  });

  it("loads neither validator.js's index nor libphonenumber-js", () => {
    const module = fileURLToPath(new URL('./class-validator.js', import.meta.url));
    const script = `
      const { createRequire } = await import('node:module');
      await import(${JSON.stringify(module)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((f) => /node_modules\\/(validator\\/index|libphonenumber-js|class-validator\\/cjs\\/index)/.test(f))));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });
});
