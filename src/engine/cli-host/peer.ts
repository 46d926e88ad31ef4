/**
 * Whom berthd's CLI host runs commands for. A command run in berthd acts with berthd's
 * credentials, capabilities, mount namespace and root: `berth cp` writes files, `berth save -o`
 * creates them, `--env-file` reads them. So the host serves a caller only when running the
 * command in its own process would have been the same: uid 0 (as berthd sees it: a root of
 * another user namespace is not), every capability berthd has, no seccomp filter and
 * berthd's security label (AppArmor, SELinux), and berthd's user and mount namespaces and
 * root directory. Anyone else is answered `fallback`, and the front runs the
 * command in a process of its own, as the caller. The socket is root's alone (0600) besides.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';

export interface Peer {
  pid: number;
  uid: number;
}

/** Why a caller is not served here, or undefined when it is. Reads /proc; never throws. */
export function refusal(peer: Peer): string | undefined {
  if (peer.uid !== 0) return `uid ${peer.uid} is not root`;
  if (peer.pid <= 0) return 'no peer pid';
  try {
    const proc = `/proc/${peer.pid}`;
    for (const ns of ['user', 'mnt']) {
      if (readlinkSync(`${proc}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`)) return `another ${ns} namespace`;
    }
    const root = statSync(`${proc}/root`);
    const ours = statSync('/proc/self/root');
    if (root.dev !== ours.dev || root.ino !== ours.ino) return 'another root directory';
    const status = readFileSync(`${proc}/status`, 'utf8');
    const ownStatus = readFileSync('/proc/self/status', 'utf8');
    const theirs = capEff(status);
    const own = capEff(ownStatus);
    if (theirs === undefined || own === undefined || (own & ~theirs) !== 0n) return 'fewer capabilities';
    // filters are inherited: a caller with more than berthd's is confined further than berthd
    if (seccompFilters(status) > seccompFilters(ownStatus)) return 'a seccomp filter';
    if (label(proc) !== label('/proc/self')) return 'another security label';
    return undefined;
  } catch (err) {
    // the caller is gone, or /proc says nothing: not served here
    return `caller ${peer.pid}: ${(err as Error).message}`;
  }
}

/** The LSM label (AppArmor profile, SELinux context), or '' where there is none. */
function label(proc: string): string {
  try {
    return readFileSync(`${proc}/attr/current`, 'utf8').replace(/\0/g, '').trim();
  } catch {
    return '';
  }
}

/** How many seccomp filters a process has (0: none; a strict-mode process counts as confined). */
export function seccompFilters(status: string): number {
  const mode = /^Seccomp:\s*(\d+)$/m.exec(status)?.[1];
  if (mode === '0') return 0;
  const n = /^Seccomp_filters:\s*(\d+)$/m.exec(status)?.[1];
  return mode === '2' && n !== undefined ? Number(n) : Number.POSITIVE_INFINITY;
}

export function capEff(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}
