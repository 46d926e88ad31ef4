/**
 * The command tree of `berth`: the management groups (container, image, volume, system, context,
 * network), the top-level commands, and each group command's top-level shortcut (`ps` for
 * `container ls`). Resolution is pure: words in, the node they name out.
 */
import { containerGroup } from './commands/containers/index.js';
import { contextGroup } from './commands/context/index.js';
import { imageGroup } from './commands/images/index.js';
import { systemGroup } from './commands/system/index.js';
import { topCommands } from './commands/top/index.js';
import { volumeGroup } from './commands/volumes/index.js';
import type { CommandSpec, GroupSpec } from './types.js';

/** A command as reachable at one place of the tree. */
export interface CommandNode {
  spec: CommandSpec;
  /** The group it belongs to; undefined for top-level-only commands. */
  group?: GroupSpec;
  /** The words after the program name, canonical: `['container', 'ls']`, `['ps']`, `['version']`. */
  path: string[];
}

export interface Tree {
  prog: string;
  groups: GroupSpec[];
  /** Groups shown in help that answer "not yet" (network). */
  later: Map<string, string>;
  /** Top-level commands by name (canonical names and top-level shortcuts). */
  top: Map<string, CommandNode>;
  /** Hidden top-level commands (not listed in help): completion. */
  hidden: Set<string>;
}

/** `berth network …`: a group Docker has that Berth does not serve yet. */
export const networkGroup: GroupSpec = { name: 'network', short: 'Manage networks', commands: [] };
export const NETWORK_LATER =
  'networking comes in a later issue: berth network is not available yet (containers get a private network namespace with loopback only, or --network host)';

/** The order of Docker's "Common Commands" section (cobra's category-top annotation). */
export const COMMON = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];

export function buildTree(
  prog = 'berth',
  groups: GroupSpec[] = [containerGroup, contextGroup, imageGroup, networkGroup, systemGroup, volumeGroup],
  topOnly: CommandSpec[] = topCommands,
  extra: CommandSpec[] = [],
): Tree {
  const top = new Map<string, CommandNode>();
  for (const g of groups) {
    for (const spec of g.commands) {
      if (spec.topLevel) top.set(spec.topLevel, { spec, group: g, path: [g.name, spec.name] });
    }
  }
  for (const spec of topOnly) {
    for (const n of [spec.name, ...(spec.aliases ?? [])]) top.set(n, { spec, path: [spec.name] });
  }
  const hidden = new Set<string>();
  for (const spec of extra) {
    top.set(spec.name, { spec, path: [spec.name] });
    hidden.add(spec.name);
  }
  const later = new Map([[networkGroup.name, NETWORK_LATER]]);
  return { prog, groups: [...groups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), later, top, hidden };
}

export type Resolution =
  /** A command; `typed` is what the user typed to reach it (`['ps']`, `['container', 'list']`). */
  | { kind: 'command'; node: CommandNode; typed: string[]; rest: string[] }
  | { kind: 'group'; group: GroupSpec; rest: string[] }
  | { kind: 'unknown-command'; words: string[] }
  | { kind: 'unknown-subcommand'; group: GroupSpec; word: string };

export function findInGroup(g: GroupSpec, word: string): CommandSpec | undefined {
  return g.commands.find((c) => c.name === word) ?? g.commands.find((c) => c.aliases?.includes(word));
}

/**
 * Resolves the words after the global flags: `ps -a`, `container ls -a`, `image`. A group word
 * followed by a flag or nothing is the group itself (its help, or its flag error).
 */
export function resolve(tree: Tree, words: string[]): Resolution {
  const [first, ...rest] = words;
  if (first === undefined) throw new Error('resolve: no command word');
  const group = tree.groups.find((g) => g.name === first);
  if (group) {
    const sub = rest[0];
    if (sub === undefined || sub.startsWith('-')) return { kind: 'group', group, rest };
    const spec = findInGroup(group, sub);
    if (!spec) return { kind: 'unknown-subcommand', group, word: sub };
    return { kind: 'command', node: { spec, group, path: [group.name, spec.name] }, typed: [first, sub], rest: rest.slice(1) };
  }
  const node = tree.top.get(first);
  if (node) return { kind: 'command', node, typed: [first], rest };
  return { kind: 'unknown-command', words: [first] };
}

/** Docker's "Aliases:" line: every way to type the command. */
export function aliasLine(tree: Tree, node: CommandNode): string[] {
  const { spec, group } = node;
  if (!group) return spec.aliases?.length ? [spec.name, ...spec.aliases].map((a) => `${tree.prog} ${a}`) : [];
  const out = [`${tree.prog} ${group.name} ${spec.name}`];
  for (const a of spec.aliases ?? []) out.push(`${tree.prog} ${group.name} ${a}`);
  if (spec.topLevel) out.push(`${tree.prog} ${spec.topLevel}`);
  return out.length > 1 ? out : [];
}
