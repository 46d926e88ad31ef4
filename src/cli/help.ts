/**
 * Help texts in the docker CLI's layout (its cobra usage template and pflag's FlagUsagesWrapped):
 * `berth --help`, `berth <group> --help`, `berth <cmd> --help`. Pure: strings out.
 */
import { defaultOf } from './flags.js';
import { aliasLine, COMMON, type CommandNode, type Tree } from './tree.js';
import type { FlagSpec, GroupSpec } from './types.js';

/** The width pflag wraps option texts to: the terminal's, else 80, minus one (docker's wrappedFlagUsages). */
export function helpWidth(columns: number | undefined): number {
  return (columns && columns > 0 ? columns : 80) - 1;
}

/** pflag's type name of a flag in help (`string`, `int`, `list`); none for bools. */
function typeName(f: FlagSpec): string {
  if (f.valueName !== undefined) return f.valueName;
  switch (f.kind) {
    case 'bool':
      return '';
    case 'float':
      return 'float';
    case 'list':
      return 'list';
    case 'slice':
      return 'strings';
    default:
      return f.kind;
  }
}

/** pflag's ` (default …)`, shown when the default is not the kind's zero value. */
function defaultText(f: FlagSpec): string {
  const d = defaultOf(f);
  switch (f.kind) {
    case 'bool':
      return d === true ? ' (default true)' : '';
    case 'string':
      return d === '' ? '' : ` (default ${JSON.stringify(d)})`;
    case 'int':
    case 'float':
      return d === 0 ? '' : ` (default ${d})`;
    default:
      return (d as string[]).length === 0 ? '' : ` (default [${(d as string[]).join(',')}])`;
  }
}

/** pflag's wrapN: the first line of at most `i` chars (or `i + slop` if that ends the text). */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap: `s` wrapped to width `w` with an indent of `i` after the first line. */
function wrap(i: number, w: number, s: string): string {
  let width = w - i;
  let r = '';
  if (width < 24) {
    i = 16;
    width = w - i;
    r += `\n${' '.repeat(i)}`;
  }
  if (width < 24) return s.replaceAll('\n', r);
  const slop = 5;
  width -= slop;
  const pad = `\n${' '.repeat(i)}`;
  let [l, rest] = wrapN(width, slop, s);
  r += l.replaceAll('\n', pad);
  while (rest !== '') {
    [l, rest] = wrapN(width, slop, rest);
    r += pad + l.replaceAll('\n', pad);
  }
  return r;
}

/** pflag's FlagUsagesWrapped: the aligned `-d, --detach` column, sorted by name, hidden ones left out. */
export function flagUsages(flags: FlagSpec[], cols: number): string {
  const lines: string[] = [];
  let maxlen = 0;
  for (const f of [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.hidden) continue;
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const t = typeName(f);
    if (t) line += ` ${t}`;
    line += '\x00';
    maxlen = Math.max(maxlen, line.length);
    line += f.usage + defaultText(f);
    lines.push(line);
  }
  let out = '';
  for (const line of lines) {
    const sidx = line.indexOf('\x00');
    // Go's Fprintln puts a space between operands: the column is maxlen + 2 wide.
    out += `${line.slice(0, sidx)} ${' '.repeat(maxlen - sidx)} ${wrap(maxlen + 2, cols, line.slice(sidx + 1))}\n`;
  }
  return out;
}

function trimRight(s: string): string {
  return s.replace(/\s+$/, '');
}

function commandList(title: string, entries: [string, string][]): string {
  if (entries.length === 0) return '';
  const pad = Math.max(11, ...entries.map(([n]) => n.length)) + 1;
  // a command whose text has several lines (docker's Long) is listed by its first
  return `\n\n${title}:\n${entries.map(([n, s]) => `  ${n.padEnd(pad)}${s.split('\n')[0]}`).join('\n')}`;
}

/** The usage line of a command as reached by `typed` (`berth ps [OPTIONS]`, `berth container ls [OPTIONS]`). */
export function useLine(tree: Tree, node: CommandNode, typedTop?: string): string {
  const tail = node.spec.usage.split(' ').slice(1).join(' ');
  const path = commandPath(tree, node, typedTop);
  return tail ? `${path} ${tail}` : path;
}

/** cobra's CommandPath: canonical names, the top-level shortcut when that is what was typed. */
export function commandPath(tree: Tree, node: CommandNode, typedTop?: string): string {
  if (!node.group) return `${tree.prog} ${node.spec.name}`;
  if (typedTop === undefined) return `${tree.prog} ${node.group.name} ${node.spec.name}`;
  return `${tree.prog} ${node.spec.topLevel ?? typedTop}`;
}

/** `berth <cmd> --help`. */
export function commandHelp(tree: Tree, node: CommandNode, typedTop: string | undefined, cols: number): string {
  let out = `Usage:  ${useLine(tree, node, typedTop)}\n\n${(node.spec.long ?? node.spec.short).trim()}`;
  const aliases = aliasLine(tree, node);
  if (aliases.length > 0) out += `\n\nAliases:\n  ${aliases.join(', ')}`;
  const options = trimRight(flagUsages(node.spec.flags, cols));
  if (options) out += `\n\nOptions:\n${options}`;
  return `${out}\n`;
}

/** `berth <group> --help` (and `berth <group>` alone). */
export function groupHelp(tree: Tree, g: GroupSpec): string {
  const entries = g.commands.map((c): [string, string] => [c.name, c.short]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let out = `Usage:  ${tree.prog} ${g.name} COMMAND\n\n${g.short}`;
  out += commandList('Commands', entries);
  out += `\n\nRun '${tree.prog} ${g.name} COMMAND --help' for more information on a command.\n`;
  return out;
}

/** `berth --help`. */
export function rootHelp(tree: Tree, globalFlags: FlagSpec[], cols: number): string {
  const names = [...tree.top.entries()]
    .filter(([k, n]) => !tree.hidden.has(k) && (k === n.spec.name || k === n.spec.topLevel))
    .map(([k, n]): [string, string] => [k, n.spec.short]);
  const common = COMMON.flatMap((c) => names.filter(([n]) => n === c));
  const others = names.filter(([n]) => !COMMON.includes(n)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let out = `Usage:  ${tree.prog} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers`;
  out += commandList('Common Commands', common);
  out += commandList(
    'Management Commands',
    tree.groups.map((g) => [g.name, g.short]),
  );
  out += commandList('Commands', others);
  out += `\n\nGlobal Options:\n${trimRight(flagUsages(globalFlags, cols))}`;
  out += `\n\nRun '${tree.prog} COMMAND --help' for more information on a command.\n`;
  return out;
}
