// Runs the sigil CLI from sources (node --import tsx test/image/helpers/run-cli.ts ARGS…), as bin/sigil.js does
// from dist/, so CLI tests need no build step.
import { main } from '../../../src/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`Error: ${err?.message ?? err}\n`);
  process.exit(1);
});
