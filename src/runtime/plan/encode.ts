/** Serializes a LaunchPlan in the text format of docs/plan-format.md. Pure. */
import type { LaunchPlan } from './plan.js';

/** What a field may hold as it is: printable ASCII but '%' (and not just '-'). */
const PLAIN = /^[\x21-\x24\x26-\x7e]+$/;

/** Percent-encodes one field: bytes <= 0x20, '%' and >= 0x7f become %XX; '' becomes '-'. */
export function encodeField(value: string | number | bigint): string {
  const s = typeof value === 'string' ? value : String(value);
  if (s === '') return '-';
  if (s === '-') return '%2D';
  // Nearly every field (numbers, paths, BPF) is plain: the byte-by-byte copy below made ~40 times
  // the plan's size in garbage, ~0.3 MB per container start.
  if (PLAIN.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out +=
      byte <= 0x20 || byte === 0x25 || byte >= 0x7f ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** Inverse of encodeField, for messages coming back from nsinit. */
export function decodeField(field: string): string {
  if (field === '-') return '';
  const bytes: number[] = [];
  for (let i = 0; i < field.length; i++) {
    if (field[i] === '%' && i + 2 < field.length) {
      bytes.push(Number.parseInt(field.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(field.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

const hex = (n: bigint) => n.toString(16);
const flag = (b: boolean) => (b ? '1' : '0');

export function encodePlan(plan: LaunchPlan): string {
  const lines: string[] = [];
  const rec = (...fields: (string | number | bigint)[]) => {
    const [name, ...rest] = fields;
    lines.push([String(name), ...rest.map(encodeField)].join(' '));
  };
  rec('berth-plan', 1);
  rec('id', plan.id);
  rec('wait', flag(plan.wait));
  rec('terminal', flag(plan.terminal));
  if (plan.consoleSocket) rec('console-socket', plan.consoleSocket);
  if (plan.startSocket) rec('start-socket', plan.startSocket);
  rec('sync-hooks', flag(plan.syncHooks));
  if (plan.cgroupsWait) rec('cgroups-wait', flag(true));
  rec('rootfs', plan.rootfs);
  for (const m of plan.rootfsMounts ?? []) rec('rootfs-mount', m.source, m.fstype, m.flags, m.data, m.cwd);
  rec('rootfs-propagation', plan.rootfsPropagation);
  if (plan.rootPropagationAfter) rec('root-propagation-after', plan.rootPropagationAfter);
  rec('no-pivot', flag(plan.noPivot));
  if (plan.chroot) rec('chroot', flag(true));
  rec('root-readonly', flag(plan.rootReadonly));
  if (plan.hostname !== undefined) rec('hostname', plan.hostname);
  if (plan.domainname !== undefined) rec('domainname', plan.domainname);
  if (plan.keyring !== undefined) rec('keyring', plan.keyring);
  if (plan.setgroups) rec('setgroups', plan.setgroups);
  if (plan.oomScoreAdj !== undefined) rec('oom-score-adj', plan.oomScoreAdj);
  for (const ns of plan.joinNamespaces) rec('ns-join', ns.type, ns.path);
  for (const ns of plan.newNamespaces) rec('ns-new', ns);
  for (const m of plan.uidMaps) rec('uid-map', m.inside, m.outside, m.count);
  for (const m of plan.gidMaps) rec('gid-map', m.inside, m.outside, m.count);
  if (plan.uidMapTool) rec('uid-map-tool', plan.uidMapTool);
  if (plan.gidMapTool) rec('gid-map-tool', plan.gidMapTool);
  for (const t of plan.timeOffsets) rec('time-offset', t.clock, t.secs, t.nanosecs);
  for (const p of plan.cgroupProcs) rec('cgroup-procs', p);
  for (const op of plan.rootfsOps) {
    if (op.op === 'mount') rec('mount', op.source, op.destination, op.fstype, op.flags, op.propagation, op.data);
    else if (op.op === 'symlink') rec('symlink', op.target, op.linkpath);
    else rec('device', op.path, op.type, op.major, op.minor, op.mode.toString(8), op.uid, op.gid, flag(op.bind));
  }
  for (const p of plan.masked) rec('masked', p);
  for (const p of plan.readonly) rec('readonly', p);
  for (const [k, v] of plan.sysctl) rec('sysctl', k, v);
  for (const r of plan.rlimits) rec('rlimit', r.resource, r.soft, r.hard);
  const proc = plan.process;
  rec('cwd', proc.cwd);
  rec('user', proc.uid, proc.gid, proc.umask === undefined ? '' : proc.umask.toString(8));
  for (const g of proc.groups) rec('group', g);
  const caps = proc.capabilities;
  if (caps) rec('caps', hex(caps.bounding), hex(caps.effective), hex(caps.permitted), hex(caps.inheritable), hex(caps.ambient));
  rec('no-new-privileges', flag(proc.noNewPrivileges));
  if (plan.seccomp) rec('seccomp', plan.seccomp.flags, plan.seccomp.program);
  rec('preserve-fds', plan.preserveFds);
  for (const a of proc.args) rec('arg', a);
  for (const e of proc.env) rec('env', e);
  if (plan.hookState !== undefined) rec('hook-state', plan.hookState);
  for (const h of plan.hooks) {
    rec('hook', h.stage, h.path, h.timeout);
    for (const a of h.args) rec('hook-arg', a);
    for (const e of h.env) rec('hook-env', e);
  }
  lines.push('end');
  return `${lines.join('\n')}\n`;
}
