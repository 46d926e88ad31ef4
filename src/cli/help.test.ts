import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { nameKind } from './completion.js';
import { commandHelp, flagUsages, groupHelp, rootHelp } from './help.js';
import { buildTree, resolve } from './tree.js';
import type { CommandSpec, GroupSpec } from './types.js';

const DOCKER = '/usr/local/bin/docker';
const noDocker = existsSync(DOCKER) ? false : `${DOCKER} (the v28 docker CLI) is missing`;
const dockerHelp = (...args: string[]) =>
  execFileSync(DOCKER, [...args, '--help'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: '/nonexistent', DOCKER_HOST: 'unix:///nonexistent.sock' },
  })
    .replace(/\bdocker (?=\w)/g, 'berth ')
    .replace(/'docker /g, "'berth ");

const run = async () => 0;
const FORMAT_USAGE =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

const stop: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  topLevel: 'stop',
  args: { min: 1 },
  flags: [
    { name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' },
    { name: 'timeout', short: 't', kind: 'int', usage: 'Seconds to wait before killing the container' },
    { name: 'time', kind: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
  ],
  run,
};
const ls: CommandSpec = {
  name: 'ls',
  aliases: ['list', 'ps'],
  usage: 'ls [OPTIONS]',
  short: 'List containers',
  topLevel: 'ps',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', kind: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    { name: 'format', kind: 'string', usage: FORMAT_USAGE },
    { name: 'last', short: 'n', kind: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', kind: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' },
  ],
  run,
};
const group: GroupSpec = { name: 'container', short: 'Manage containers', commands: [stop, ls] };
const tree = buildTree(
  'berth',
  [group],
  [{ name: 'version', usage: 'version [OPTIONS]', short: 'Show the Docker version information', flags: [], run }],
);

describe('help', () => {
  it("a command's help is the docker CLI's, word for word", { skip: noDocker }, () => {
    const r = resolve(tree, ['stop']);
    assert.equal(r.kind, 'command');
    if (r.kind !== 'command') return;
    assert.equal(commandHelp(tree, r.node, 'stop', 79), dockerHelp('stop'));
    const c = resolve(tree, ['container', 'list']);
    if (c.kind !== 'command') assert.fail('container list');
    assert.equal(commandHelp(tree, c.node, undefined, 79), dockerHelp('container', 'ls'));
    const ps = resolve(tree, ['ps']);
    if (ps.kind !== 'command') assert.fail('ps');
    assert.equal(
      commandHelp(tree, ps.node, 'ps', 79),
      dockerHelp('ps').replace('Usage:  berth ps [OPTIONS]', 'Usage:  berth ps [OPTIONS]'),
    );
  });

  it('wraps like pflag at other widths', () => {
    const narrow = flagUsages(ls.flags, 40);
    // too narrow to wrap beside the column: the text goes below at 16 columns
    assert.match(narrow, /\n {16}\S/);
    const wide = flagUsages(ls.flags, 200);
    assert.match(wide, /^ {2}-a, --all {13}Show all containers \(default shows just running\)$/m);
    assert.match(wide, /--last int {8}Show n last created containers \(includes all states\) \(default -1\)$/m);
  });

  it("a group's help lists its commands", () => {
    const h = groupHelp(tree, group);
    assert.equal(
      h,
      "Usage:  berth container COMMAND\n\nManage containers\n\nCommands:\n  ls          List containers\n  stop        Stop one or more running containers\n\nRun 'berth container COMMAND --help' for more information on a command.\n",
    );
  });

  it('the top-level help has the common, management and other commands', () => {
    const h = rootHelp(tree, [{ name: 'debug', short: 'D', kind: 'bool', usage: 'Enable debug mode' }], 79);
    assert.match(
      h,
      /^Usage: {2}berth \[OPTIONS\] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n {2}ps {10}List containers\n {2}version {5}Show/,
    );
    assert.match(
      h,
      /\n\nManagement Commands:\n {2}container {3}Manage containers\n\nCommands:\n {2}stop {8}Stop one or more running containers\n\nGlobal Options:\n {2}-D, --debug {3}Enable debug mode\n\nRun 'berth COMMAND --help' for more information on a command.\n$/,
    );
  });
});

describe('completion', () => {
  it('knows what a command names from its usage', () => {
    const k = (usage: string) => nameKind({ name: 'x', usage, short: '', flags: [], run });
    assert.equal(k('rm [OPTIONS] CONTAINER [CONTAINER...]'), 'containers');
    assert.equal(k('run [OPTIONS] IMAGE [COMMAND] [ARG...]'), 'images');
    assert.equal(k('tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]'), 'images');
    assert.equal(k('use CONTEXT'), 'contexts');
    assert.equal(k('inspect [OPTIONS] [CONTEXT] [CONTEXT...]'), 'contexts');
    assert.equal(k('rm [OPTIONS] VOLUME [VOLUME...]'), 'volumes');
    assert.equal(k('cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-'), undefined);
    assert.equal(k('ls [OPTIONS]'), undefined);
  });
});

describe('command lists', () => {
  it('show the first line of a text of several lines', () => {
    const login: CommandSpec = {
      name: 'login',
      usage: 'login',
      short: 'Authenticate to a registry.\nDefaults to Docker Hub.',
      flags: [],
      run,
    };
    const t = buildTree('berth', [], [login]);
    assert.match(rootHelp(t, [], 79), /\n {2}login {7}Authenticate to a registry\.\n\nGlobal/);
    const r = resolve(t, ['login']);
    if (r.kind !== 'command') assert.fail();
    assert.match(commandHelp(t, r.node, 'login', 79), /\n\nAuthenticate to a registry\.\nDefaults to Docker Hub\.\n/);
  });
});
