/**
 * `grantory completion bash|zsh|fish`: completion scripts made from the command tree itself
 * (every command, subcommand and flag, and the values of flags that take a fixed set), so they
 * follow the commands without upkeep.
 */
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

interface Node {
  /** Subcommand names from the program down, e.g. ['identities', 'list']. */
  path: string[];
  command: Command;
}

function walk(command: Command, path: string[] = []): Node[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

const flagsOf = (command: Command): string[] => [...command.options.flatMap((o: Option) => [o.long, o.short].filter((f): f is string => !!f)), '--help'];

const quoteSingle = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(program: Command): string {
  const nodes = walk(program);
  const known = nodes.filter((n) => n.path.length).map((n) => `"/${n.path.join('/')}"`);
  const words = nodes.map((n) => `    "${n.path.length ? `/${n.path.join('/')}` : ''}") words=${quoteSingle([...n.command.commands.map((c) => c.name()), ...flagsOf(n.command)].join(' '))} ;;`);
  const choices = new Map<string, string>();
  for (const n of nodes) {
    for (const o of n.command.options) {
      if (!o.argChoices) continue;
      for (const flag of [o.long, o.short]) if (flag) choices.set(`/${n.path.join('/')}|${flag}`, o.argChoices.join(' '));
    }
  }
  const values = [...choices].map(([key, list]) => `    "${key}") COMPREPLY=( $(compgen -W ${quoteSingle(list)} -- "$cur") ); return ;;`);
  return `# grantory completion for bash (grantory completion bash)
_grantory() {
  local cur prev path w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path=""
  for ((i=1; i<COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case "$path/$w" in
      ${known.join('|')}) path="$path/$w" ;;
    esac
  done
  case "$path|$prev" in
${values.join('\n')}
  esac
  case "$path" in
${words.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _grantory grantory
`;
}

function zsh(program: Command): string {
  return `#compdef grantory
# grantory completion for zsh (grantory completion zsh): zsh's bash completion layer runs the bash script.
autoload -U +X bashcompinit && bashcompinit
${bash(program)}`;
}

const fishText = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(program: Command): string {
  const lines = ['# grantory completion for fish (grantory completion fish)', 'complete -c grantory -f'];
  for (const node of walk(program)) {
    const siblings = node.command.commands.map((c) => c.name());
    // The words so far are exactly this node's path: each of its names seen, and no child yet.
    const seen = node.path.map((p) => `__fish_seen_subcommand_from ${p}`);
    const condition = node.path.length ? [...seen, ...(siblings.length ? [`not __fish_seen_subcommand_from ${siblings.join(' ')}`] : [])].join('; and ') : '__fish_use_subcommand';
    for (const sub of node.command.commands) lines.push(`complete -c grantory -n ${fishText(condition)} -a ${sub.name()} -d ${fishText(sub.description())}`);
    if (!node.path.length) continue;
    for (const option of node.command.options) {
      const flag = option.long ? `-l ${option.long.replace(/^--/, '')}` : '';
      const short = option.short ? ` -s ${option.short.replace(/^-/, '')}` : '';
      const values = option.argChoices ? ` -x -a ${fishText(option.argChoices.join(' '))}` : option.required || option.optional ? ' -r' : '';
      lines.push(`complete -c grantory -n ${fishText(seen.join('; and '))} ${flag}${short}${values} -d ${fishText(option.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: (typeof SHELLS)[number], program: Command): string {
  return shell === 'bash' ? bash(program) : shell === 'zsh' ? zsh(program) : fish(program);
}
