// Public interface of demo/: `sigil demo` (`npm run demo`), the keyless flow of examples/django-keyless run end to
// end through the real CLI, and the pieces the end-to-end tests reuse.
export { type Cli, type RunResult, runSigil, type StackProcess, startStackProcess } from './child.js';
export { type DemoOptions, type DemoResult, runDemo } from './run.js';
export {
  commandLine,
  DEMO_REF,
  DEMO_REPOSITORY,
  DEMO_WORKFLOW,
  imageTag,
  parseBuiltImage,
  parseLogIndex,
  parseRunnerEnv,
  workflowIdentity,
} from './walkthrough.js';
