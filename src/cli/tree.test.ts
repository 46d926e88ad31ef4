import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aliasLine, buildTree, resolve } from './tree.js';
import type { CommandSpec } from './types.js';

const run = async () => 0;
const ls: CommandSpec = { name: 'ls', aliases: ['list', 'ps'], usage: 'ls', short: 'List', flags: [], topLevel: 'ps', run };
const inspect: CommandSpec = { name: 'inspect', usage: 'inspect', short: 'Inspect', flags: [], run };
const login: CommandSpec = { name: 'login', aliases: ['signin'], usage: 'login', short: 'Log in', flags: [], run };
const tree = buildTree('berth', [{ name: 'container', short: 'Manage containers', commands: [ls, inspect] }], [login]);

describe('tree', () => {
  it('resolves group verbs, their aliases, top-level shortcuts and top-level commands', () => {
    const a = resolve(tree, ['container', 'list', '-a']);
    assert.equal(a.kind, 'command');
    if (a.kind === 'command') {
      assert.equal(a.node.spec, ls);
      assert.deepEqual(a.node.path, ['container', 'ls']);
      assert.deepEqual(a.rest, ['-a']);
    }
    const ps = resolve(tree, ['ps']);
    assert.ok(ps.kind === 'command' && ps.node.spec === ls && ps.node.group?.name === 'container');
    const signin = resolve(tree, ['signin']);
    assert.ok(signin.kind === 'command' && signin.node.spec === login);
    assert.equal(resolve(tree, ['inspect']).kind, 'unknown-command', 'container inspect has no top-level shortcut here');
  });

  it('a group alone or with a flag is the group; an unknown verb is reported', () => {
    assert.equal(resolve(tree, ['container']).kind, 'group');
    assert.equal(resolve(tree, ['container', '--help']).kind, 'group');
    const u = resolve(tree, ['container', 'frob']);
    assert.ok(u.kind === 'unknown-subcommand' && u.word === 'frob');
    assert.deepEqual(resolve(tree, ['frob', 'x']), { kind: 'unknown-command', words: ['frob'] });
  });

  it("lists every way to type a command, as docker's Aliases line", () => {
    const r = resolve(tree, ['ps']);
    if (r.kind !== 'command') assert.fail();
    assert.deepEqual(aliasLine(tree, r.node), ['berth container ls', 'berth container list', 'berth container ps', 'berth ps']);
    const i = resolve(tree, ['container', 'inspect']);
    if (i.kind !== 'command') assert.fail();
    assert.deepEqual(aliasLine(tree, i.node), []);
    const l = resolve(tree, ['login']);
    if (l.kind !== 'command') assert.fail();
    assert.deepEqual(aliasLine(tree, l.node), ['berth login', 'berth signin']);
  });

  it('has the network group, answered later', () => {
    const real = buildTree();
    assert.ok(real.groups.some((g) => g.name === 'network'));
    assert.match(real.later.get('network') ?? '', /later issue/);
  });
});
