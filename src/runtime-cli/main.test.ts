import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandOf, preloadCommands } from './main.js';

test('commandOf finds the command after global options and their values', () => {
  assert.equal(commandOf(['state', 'c1']), 'state');
  assert.equal(commandOf(['--root', '/run/x', 'delete', '-f', 'c1']), 'delete');
  assert.equal(commandOf(['--root=/run/x', '--debug', 'run', '--bundle', 'b', 'c1']), 'run');
  assert.equal(commandOf(['--log', 'l.json', '--log-format', 'json', 'create', 'c1']), 'create');
  // a value that happens to be a command's name is the option's value
  assert.equal(commandOf(['--root', 'start', 'kill', 'c1']), 'kill');
  // the container id of exec is not the command, even when it is named like one
  assert.equal(commandOf(['exec', 'run', 'sh']), 'exec');
});

test('commandOf leaves help, unknown commands and bare options to the full program', () => {
  assert.equal(commandOf([]), undefined);
  assert.equal(commandOf(['--help']), undefined);
  assert.equal(commandOf(['help', 'run']), undefined);
  assert.equal(commandOf(['checkpoint', 'c1']), undefined);
  assert.equal(commandOf(['--version']), undefined);
  assert.equal(commandOf(['--', 'run']), undefined);
  assert.equal(commandOf(['toString']), undefined);
});

test('preloadCommands initialises every command module (the startup snapshot holds them all)', async () => {
  await preloadCommands();
  // each command module, imported afterwards, is the one already initialised and registers
  for (const verb of ['create', 'run', 'exec', 'delete', 'features']) {
    const m = (await import(`./commands/${verb}.js`)) as { register?: unknown };
    assert.equal(typeof m.register, 'function', verb);
  }
});
