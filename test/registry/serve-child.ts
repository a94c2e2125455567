// Runs the sigil CLI from source in a child process (via tsx), for tests that kill -9 a real server.
import { main } from '../../src/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`Error: ${err?.message ?? err}\n`);
  process.exit(1);
});
