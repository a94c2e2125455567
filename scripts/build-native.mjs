// Builds sigil's one native addon (src/crypto/native/: ECDSA verification over a given digest through the
// OpenSSL inside node) with node-gyp, as npm's install step. It needs node's headers and a C compiler, the same
// as better-sqlite3. Offline machines have no headers to download, so when node's own install carries them
// (<prefix>/include/node, as distribution packages do) node-gyp is pointed there. A failed build does not fail
// the install: sigil then checks those signatures in JavaScript (about 3× the CPU) and says so at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function nodeGyp() {
  // npm tells its scripts where its bundled node-gyp is.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return process.env.npm_config_node_gyp;
  }
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  try {
    return createRequire(join(npmDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const gyp = nodeGyp();
const args = ['rebuild'];
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const result = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' })
  : { status: 1, error: new Error('node-gyp not found') };
if (result.status !== 0) {
  console.warn(
    `sigil: the native ECDSA addon did not build (${result.error?.message ?? `node-gyp exited ${result.status}`}); ` +
      'digest signatures will be checked in JavaScript instead.',
  );
}
