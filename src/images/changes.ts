/**
 * `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an
 * image config. Docker allows CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME and WORKDIR. Pure.
 */
import { invalid } from '../common/errors.js';
import type { ContainerConfig } from '../oci/image.js';

const ALLOWED = new Set([
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'HEALTHCHECK',
  'LABEL',
  'ONBUILD',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

/** A JSON array of strings (exec form), or undefined when `text` is not one. */
function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Dockerfile's `key=value key2="v w"` pairs (quotes and backslash escapes), or the legacy `key value` form. */
export function parsePairs(text: string, instr: string): [string, string][] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (quote) throw invalid(`${instr}: unterminated quote`, instr);
  if (cur || any) words.push(cur);
  if (words.length === 0) throw invalid(`${instr} requires at least one argument`, instr);
  if (!words[0]!.includes('=')) {
    // legacy form: the first word is the key, the rest of the line (as written) the value
    const key = words[0]!;
    const value = text.trim().slice(key.length).trim();
    if (!value && instr !== 'LABEL') throw invalid(`${instr} names can not be blank`, instr);
    return [[key, value]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`${instr}: '${w}' is not of the form key=value`, instr);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies `changes` to a copy of `base`; an instruction Docker does not allow is refused by name. */
export function applyChanges(changes: readonly string[], base: ContainerConfig = {}): ContainerConfig {
  const c: ContainerConfig = structuredClone(base);
  for (const line of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
    if (!m) continue;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.has(instr)) throw invalid(`${instr} is not a valid change command`, instr);
    const cmd = () => execForm(rest) ?? ['/bin/sh', '-c', rest];
    switch (instr) {
      case 'CMD':
        c.Cmd = cmd();
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = rest === '' ? null : cmd();
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of parsePairs(rest, 'ENV')) {
          const at = env.findIndex((e) => e.split('=')[0] === k);
          if (at >= 0) env[at] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(parsePairs(rest, 'LABEL')) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`EXPOSE: invalid port '${p}'`, p);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of execForm(rest) ?? rest.split(/\s+/).filter(Boolean)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'USER':
        c.User = rest;
        break;
      case 'WORKDIR':
        c.WorkingDir = rest.startsWith('/') ? rest : `${c.WorkingDir ?? '/'}/${rest}`.replace(/\/+/g, '/');
        break;
      case 'STOPSIGNAL':
        c.StopSignal = rest;
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      case 'HEALTHCHECK': {
        if (rest.toUpperCase() === 'NONE') c.Healthcheck = { Test: ['NONE'] };
        else {
          const hm = /^CMD\s+([\s\S]*)$/i.exec(rest);
          if (!hm) throw invalid(`HEALTHCHECK: expected CMD or NONE`, 'HEALTHCHECK');
          const arg = hm[1]!.trim();
          const exec = execForm(arg);
          c.Healthcheck = { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', arg] };
        }
        break;
      }
    }
  }
  return c;
}
