// The package's hand-written types against its JavaScript: every value pkg/index.js exports is
// declared in pkg/index.d.ts and nothing more, and ModelLoadError.codes is the declared union.
// (`tsc -p tests/types` checks the declarations themselves against a TypeScript consumer;
// crates/engine/tests/js_contract.rs checks the engine's error codes and explain fields.)
// Needs: scripts/build-wasm.sh run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (f) => readFileSync(new URL(`../../pkg/${f}`, import.meta.url), 'utf8');

/** Names of the values (not types) a .d.ts exports. */
function declaredValues(dts) {
  const names = new Set();
  for (const m of dts.matchAll(/^export (?:declare )?(?:function|class|const|let) (\w+)/gm)) names.add(m[1]);
  for (const m of dts.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const n of m[1].split(',')) names.add(n.trim());
  }
  if (/^export default /m.test(dts)) names.add('default');
  return [...names].sort();
}

/** The string values of `export type NAME = 'a' | 'b' …;`. */
function union(dts, name) {
  const start = dts.indexOf(`export type ${name} =`);
  assert.ok(start >= 0, `${name} is not declared`);
  return [...dts.slice(start, dts.indexOf(';', start)).matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

test('pkg/index.d.ts declares exactly the values pkg/index.js exports', async () => {
  const mod = await import('../../pkg/index.js');
  assert.deepEqual(declaredValues(read('index.d.ts')), Object.keys(mod).sort());
});

test('pkg/loader.d.ts declares only what index.js re-exports from the loader', async () => {
  const loader = await import('../../pkg/loader.js');
  const mod = await import('../../pkg/index.js');
  for (const name of declaredValues(read('loader.d.ts'))) {
    assert.ok(name in loader, `loader.d.ts declares ${name}, which loader.js does not export`);
    assert.equal(mod[name], loader[name], `loader.d.ts declares ${name}, which the package entry point does not re-export`);
  }
});

test('ModelLoadError.codes is the declared ModelLoadErrorCode union', async () => {
  const { ModelLoadError } = await import('../../pkg/index.js');
  assert.deepEqual([...ModelLoadError.codes].sort(), union(read('loader.d.ts'), 'ModelLoadErrorCode').sort());
});
