/**
 * The folder's own rules: every file here names, in its header, the versions of WRITTEN_AGAINST
 * (./written-against.ts) it depends on, and every module has a contract spec; and the version
 * check behind the contract specs.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installedVersion, versionMismatch, WRITTEN_AGAINST, type InternalsLibrary } from './written-against.js';

/** The sources: this spec runs from .test-build/src/internals/, and tsc drops some leading comments. */
const here = fileURLToPath(new URL('../../../src/internals/', import.meta.url));
const files = readdirSync(here).filter((file) => file.endsWith('.ts') && !file.startsWith('written-against.'));
const modules = files.filter((file) => !file.endsWith('.test.ts'));
const libraries = Object.keys(WRITTEN_AGAINST) as InternalsLibrary[];

function header(file: string): string {
  const comment = /^\/\*\*[\s\S]*?\*\//.exec(readFileSync(here + file, 'utf8'))?.[0] ?? '';
  return comment.replace(/\s*\n\s*\*\s*/g, ' '); // one line, so a name and its version may be wrapped apart
}

/** The versions a header names, as `library version`, for the libraries of WRITTEN_AGAINST. */
function versionsNamed(text: string): Map<InternalsLibrary, string> {
  const named = new Map<InternalsLibrary, string>();
  for (const library of libraries) {
    const escaped = library.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const match = new RegExp(`(?<![\\w@/.-])${escaped} (\\d+\\.\\d+\\.\\d+)`).exec(text);
    if (match) named.set(library, match[1]);
  }
  return named;
}

describe('files in src/internals', () => {
  for (const file of files) {
    it(`${file} starts with a header naming the versions of WRITTEN_AGAINST it depends on`, () => {
      const named = versionsNamed(header(file));
      expect(named.size).toBeGreaterThan(0);
      for (const [library, version] of named) {
        expect(`${library} ${version}`).toBe(`${library} ${WRITTEN_AGAINST[library]}`);
      }
    });
  }

  for (const file of modules) {
    it(`${file} has a contract spec`, () => {
      expect(files).toContain(file.replace(/\.ts$/, '.contract.test.ts'));
    });
  }
});

describe('versionMismatch', () => {
  it('passes the version written against, and a later patch of it', () => {
    expect(versionMismatch('ws', '8.21.3')).toBeUndefined();
    expect(versionMismatch('ws', '8.21.9')).toBeUndefined();
  });

  it('fails another minor or major version, saying what to do', () => {
    expect(versionMismatch('ws', '8.22.0')).toBe(
      'ws: written against 8.21.3, found 8.22.0; re-check the contract (src/internals) and update WRITTEN_AGAINST',
    );
    expect(versionMismatch('ioredis', '5.4.1')).toMatch(/^ioredis: written against 6\.0\.0, found 5\.4\.1; /);
  });

  it('reads installed versions from the package directories, whatever their exports allow', () => {
    for (const library of libraries) expect(installedVersion(library)).toMatch(/^\d+\.\d+\.\d+/);
    expect(() => installedVersion('echo-relay-no-such-package')).toThrow('echo-relay-no-such-package is not installed');
  });
});
