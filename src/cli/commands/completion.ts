// `sigil completion bash|zsh|fish` (cosign completion): a shell completion script for sigil's verbs, their
// subcommands and flags, generated from the program itself so it never lists a flag that does not exist.
// Install as cosign's: `source <(sigil completion bash)`, or write it to the shell's completion directory.
import type { Command } from 'commander';

interface Node {
  path: string[];
  subcommands: string[];
  flags: string[];
}

function walk(cmd: Command, path: string[], out: Node[]): void {
  const flags = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  const subs = cmd.commands.map((c) => c.name());
  out.push({ path, subcommands: subs, flags: [...flags, '--help'] });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out);
}

function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    "${n.path.join(' ')}") words="${[...n.subcommands, ...n.flags].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for sigil (sigil completion bash)
_sigil() {
  local cur path="" i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) path="\${path:+$path }\${COMP_WORDS[i]}" ;; esac
  done
  while :; do
    case "$path" in
${cases}
    *) if [[ "$path" == *" "* ]]; then path="\${path% *}"; continue; fi; words="" ;;
    esac
    break
  done
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _sigil sigil
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef sigil
# zsh completion for sigil (sigil completion zsh)
autoload -U bashcompinit && bashcompinit
${bash(nodes)}`;
}

function fish(nodes: Node[]): string {
  const lines = ['# fish completion for sigil (sigil completion fish)', 'complete -c sigil -f'];
  for (const n of nodes) {
    const cond =
      n.path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${n.path[n.path.length - 1]}`;
    for (const s of n.subcommands) lines.push(`complete -c sigil -n '${cond}' -a ${s}`);
    for (const f of n.flags.filter((x) => x.startsWith('--')))
      lines.push(`complete -c sigil -n '${cond}' -l ${f.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: string): string {
  const nodes: Node[] = [];
  walk(program, [], nodes);
  if (shell === 'bash') return bash(nodes);
  if (shell === 'zsh') return zsh(nodes);
  if (shell === 'fish') return fish(nodes);
  throw new Error(`no completion for "${shell}": bash, zsh or fish`);
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(sigil completion bash)')
    .argument('[shell]', 'bash, zsh or fish', 'bash')
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
