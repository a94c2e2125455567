// Public interface of demo/: `sigil demo` (`npm run demo`), the keyless flow of examples/django-keyless run end to
// end through the real CLI, and the pieces the end-to-end tests reuse.
export { type Cli, type RunResult, runSigil, type StackProcess, startStackProcess } from './child.js';
export { runDemo } from './run.js';
export {
  commandLine,
  parseBuiltImage,
  parseLogIndex,
  parseRunnerEnv,
  workflowIdentity,
} from './walkthrough.js';
