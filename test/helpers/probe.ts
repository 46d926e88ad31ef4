/**
 * Building berth-probe command lines and parsing its output
 * (native/probe/probe.c: `VERB [ARG…] [+ VERB [ARG…]]…`; with several verbs,
 * each output section starts with `@@ VERB ARG…`).
 */

/** Joins probe invocations with '+': `probeCmd(['hostname'], ['stat', '/dev/null'])`. */
export function probeCmd(...invocations: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const inv of invocations) {
    if (inv.length === 0) continue;
    if (out.length > 0) out.push('+');
    out.push(...inv);
  }
  return out;
}

export interface ProbeSection {
  /** The invocation as the header spelled it: `stat /dev/null`. */
  readonly key: string;
  readonly lines: readonly string[];
}

export class ProbeOutput {
  readonly sections: readonly ProbeSection[];
  readonly raw: string;

  /**
   * @param raw the probe's stdout
   * @param single the invocation when the probe ran one verb only (no headers)
   */
  constructor(raw: string, single?: readonly string[]) {
    this.raw = raw;
    const lines = raw.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const sections: { key: string; lines: string[] }[] = [];
    if (lines[0]?.startsWith('@@ ') !== true) {
      sections.push({ key: (single ?? []).join(' '), lines });
    } else {
      for (const l of lines) {
        if (l.startsWith('@@ ')) sections.push({ key: l.slice(3), lines: [] });
        else sections.at(-1)?.lines.push(l);
      }
    }
    this.sections = sections;
  }

  /** Lines of the section for this invocation; throws if the probe did not print it. */
  lines(...invocation: string[]): readonly string[] {
    const key = invocation.join(' ');
    const s = this.sections.find((x) => x.key === key);
    if (s === undefined) {
      throw new Error(`probe output has no section '${key}' (sections: ${this.sections.map((x) => x.key).join(' | ')})\n${this.raw}`);
    }
    return s.lines;
  }

  /** The section's text (lines joined with \n). */
  text(...invocation: string[]): string {
    return this.lines(...invocation).join('\n');
  }

  /** The single value a verb printed (its first line). */
  value(...invocation: string[]): string {
    return this.lines(...invocation)[0] ?? '';
  }

  /** key=value lines as a map. */
  kv(...invocation: string[]): Map<string, string> {
    return parseKv(this.lines(...invocation));
  }
}

export function parseKv(lines: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf('=');
    if (i > 0) m.set(l.slice(0, i), l.slice(i + 1));
  }
  return m;
}

// ------------------------------------------------------------- mountinfo

export interface MountInfo {
  id: number;
  parent: number;
  /** major:minor */
  dev: string;
  root: string;
  mountPoint: string;
  /** per-mount options (ro, nosuid, …) */
  options: string[];
  /** optional fields: shared:N, master:N, propagate_from:N, unbindable */
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/<pid>/mountinfo text. */
export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(pre[0]),
      parent: Number(pre[1]),
      dev: pre[2] ?? '',
      root: unescapeOctal(pre[3] ?? ''),
      mountPoint: unescapeOctal(pre[4] ?? ''),
      options: (pre[5] ?? '').split(','),
      optional: pre.slice(6),
      fsType: post[0] ?? '',
      source: unescapeOctal(post[1] ?? ''),
      superOptions: (post[2] ?? '').split(','),
    });
  }
  return out;
}

/** The mount visible at a mount point (the last one mounted there). */
export function mountAt(mounts: readonly MountInfo[], mountPoint: string): MountInfo | undefined {
  return mounts.filter((m) => m.mountPoint === mountPoint).at(-1);
}
