import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goErrors, goOutputs, goOutputsVersionData } from './golden.js';
import { GoFloat, renderTemplate, Template, TemplateExecError, TemplateParseError } from './index.js';

/** Stands in for Docker's *formatter.ContainerContext in the error table (its exported parts). */
class ContainerContextStub {
  static goType = '*formatter.ContainerContext';
  Header = {};
  FieldsUsed = null;
  private c = 1;
  private trunc = true;
  ID() {
    return this.c && this.trunc ? '' : '';
  }
  Names() {
    return '';
  }
  Label(_name: string) {
    return '';
  }
}

function run(tpl: string, data: unknown): string {
  try {
    return renderTemplate(tpl, data);
  } catch (e) {
    return `ERR ${(e as Error).message}`;
  }
}

describe('Go text/template: outputs observed with Go', () => {
  for (const [tpl, want] of goOutputs) {
    it(tpl, () => assert.equal(run(tpl, {}), want));
  }
});

describe('Go text/template: outputs observed with Go over docker version’s data', () => {
  const version = { Client: { Version: '28.2.2', ApiVersion: '1.50', Os: 'linux', Arch: 'amd64' }, Server: null };
  for (const [tpl, want] of goOutputsVersionData) {
    it(tpl, () => assert.equal(run(tpl, version), want));
  }
});

describe('Go text/template: errors observed with Go', () => {
  for (const [tpl, want] of goErrors) {
    it(tpl, () => {
      let got = '';
      try {
        renderTemplate(tpl, new ContainerContextStub());
      } catch (e) {
        assert.ok(e instanceof TemplateParseError || e instanceof TemplateExecError, String(e));
        got = e.message;
      }
      assert.equal(got, want);
    });
  }
});

const inspect = {
  Id: 'abc123',
  Name: '/web',
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: null },
  Config: { Labels: { 'com.example.b': '2', 'com.example.a': '1' }, Cmd: ['sh', '-c', 'echo hi'], Env: [] },
  Mounts: [
    { Type: 'volume', Name: 'data', Destination: '/data', RW: true },
    { Type: 'bind', Source: '/srv', Destination: '/srv', RW: false },
  ],
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } }, Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } },
  Size: 1234567,
  Ratio: 0.5,
};

describe('Go text/template over the Engine JSON (docker inspect -f habits)', () => {
  const table: [string, unknown, string][] = [
    ['{{.Id}}', inspect, 'abc123'],
    ['{{.State.Status}}', inspect, 'running'],
    ['{{.State.Pid}}', inspect, '4242'],
    ['{{.Size}}', inspect, '1234567'],
    ['{{.Ratio}}', inspect, '0.5'],
    ['{{.State.Running}}', inspect, 'true'],
    ['{{.Config.Labels}}', inspect, 'map[com.example.a:1 com.example.b:2]'],
    ['{{index .Config.Labels "com.example.a"}}', inspect, '1'],
    ['[{{index .Config.Labels "nope"}}]', inspect, '[]'],
    ['{{.Config.Labels.nope}}', inspect, '<no value>'],
    ['{{.Config.Cmd}}', inspect, '[sh -c echo hi]'],
    ['{{join .Config.Cmd " "}}', inspect, 'sh -c echo hi'],
    ['{{json .Config.Cmd}}', inspect, '["sh","-c","echo hi"]'],
    ['{{json .Config.Labels}}', inspect, '{"com.example.a":"1","com.example.b":"2"}'],
    ['{{json .State}}', inspect, '{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,"Health":null}'],
    ['{{.Config.Env}}', inspect, '[]'],
    ['{{len .Mounts}}', inspect, '2'],
    ['{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}', inspect, 'volume:/data bind:/srv '],
    ['{{range $i, $m := .Mounts}}{{if $i}},{{end}}{{$m.Destination}}{{end}}', inspect, '/data,/srv'],
    ['{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}}', inspect, 'bridge=172.17.0.2'],
    ['{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', inspect, '8080'],
    ['{{with .State}}{{.Status}}/{{$.Name}}{{end}}', inspect, 'running//web'],
    ['{{if eq .State.Status "running"}}up{{else}}down{{end}}', inspect, 'up'],
    ['{{if and .State.Running (not .State.ExitCode)}}ok{{end}}', inspect, 'ok'],
    ['{{.State.Health}}', inspect, '<nil>'],
    ['{{len .State.Health}}|{{join .State.Health ","}}', inspect, '0|'],
    ['{{.Name | printf "%q"}}', inspect, '"/web"'],
    ['{{.Name | lower | upper}}', inspect, '/WEB'],
    ['{{slice .Id 0 3}}', inspect, 'abc'],
    ['{{printf "%.2f" .Ratio}}', inspect, '0.50'],
    ['{{gt .Size 1000}}', inspect, 'true'],
    ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', inspect, 'com.example.a=1;com.example.b=2;'],
    ['{{.Nope}}', inspect, '<no value>'],
    ['{{.}}', { b: 1, a: [1, 'x', null] }, 'map[a:[1 x <nil>] b:1]'],
    ['{{.}}', null, '<nil>'],
    ['{{.}}', new GoFloat(3), '3'],
    ['{{printf "%v" .}}', 1e6, '1000000'],
    ['{{printf "%v" .}}', new GoFloat(1e6), '1e+06'],
  ];
  for (const [tpl, data, want] of table) it(tpl, () => assert.equal(run(tpl, data), want));

  it('errors on a missing key under missingkey=error, with Go’s text', () => {
    const t = Template.parse('{{.Nope}}', { missingKey: 'error' });
    assert.throws(() => t.execute(inspect), {
      message: 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',
    });
  });
  it('errors walking through a nil', () => {
    assert.equal(
      run('{{.State.Health.Status}}', inspect),
      'ERR template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status',
    );
  });
  it('names the template in messages', () => {
    assert.throws(() => Template.parse('{{.X', { name: 'version' }), { message: 'template: version:1: unclosed action' });
  });
  it('reports the line of a multi-line template', () => {
    assert.equal(
      run('a\nb\n{{.Nope.X}}', { Nope: 1 }),
      'ERR template: :3:7: executing "" at <.Nope.X>: can\'t evaluate field X in type int',
    );
    assert.equal(run('a\n{{if 1}}\n{{.X', {}), 'ERR template: :3: unclosed action');
  });
  it('keeps what was written before an execution error', () => {
    try {
      renderTemplate('ab{{.X.Y}}', { X: 1 });
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof TemplateExecError);
      assert.equal(e.partial, 'ab');
    }
  });
  it('calls methods of class instances with their arguments', () => {
    class Ctx {
      static goType = '*formatter.VolumeContext';
      Name() {
        return 'v1';
      }
      Label(k: string) {
        return k === 'a' ? 'A' : '';
      }
    }
    assert.equal(run('{{.Name}} {{.Label "a"}}[{{.Label "b"}}]', new Ctx()), 'v1 A[]');
    assert.equal(
      run('{{.Nope}}', new Ctx()),
      'ERR template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.VolumeContext',
    );
  });
  it('uses added functions and replaces them after parsing (header functions)', () => {
    const t = Template.parse('{{upper .}}');
    assert.equal(t.execute('x'), 'X');
    assert.equal(t.with({ funcs: { upper: { params: ['string'], fn: (s) => `<${s}>` } } }).execute('x'), '<x>');
  });
  it('stops runaway recursion with an error, not a crash', () => {
    assert.match(run('{{define "a"}}{{template "a" .}}{{end}}{{template "a" 1}}', {}), /^ERR template: .*exceeded maximum template depth/);
  });
  it('survives hostile input', () => {
    for (const t of [
      '{{',
      '}}',
      '{{{{',
      '{{(((((',
      `{{${'('.repeat(5000)}`,
      '{{"\\',
      '{{`',
      "{{'",
      '{{-',
      '{{- }}',
      '{{ -}}',
      '\0{{.}}\0',
    ]) {
      const out = run(t, {});
      assert.equal(typeof out, 'string');
    }
    assert.equal(run('}}', {}), '}}');
    // Deep nesting is an error, not a stack overflow; reasonable nesting works.
    assert.equal(run(`{{${'('.repeat(5000)}1${')'.repeat(5000)}}}`, {}), 'ERR template: :1: max expression depth exceeded');
    assert.equal(run(`${'{{if 1}}'.repeat(5000)}x${'{{end}}'.repeat(5000)}`, {}), 'ERR template: :1: max expression depth exceeded');
    assert.equal(run(`${'{{with 1}}'.repeat(900)}x${'{{end}}'.repeat(900)}`, {}), 'x');
    assert.equal(run(`{{${'('.repeat(900)}1${')'.repeat(900)}}}`, {}), '1');
    assert.equal(run('{{- }}', {}), 'ERR template: :1: missing value for command');
  });
});
