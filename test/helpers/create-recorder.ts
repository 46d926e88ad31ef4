/**
 * A tiny Engine API on a unix socket that only records what a client sends to
 * `POST /containers/create`: enough for the real docker CLI to run `docker create` against it
 * (ping with Api-Version 1.41, then the create), so tests can compare the body the real client
 * builds with berth's. Everything else answers 404.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedCreate {
  /** The query string's parameters (name, platform). */
  query: Record<string, string>;
  /** The parsed JSON body. */
  body: unknown;
  /** The path as sent, e.g. `/v1.41/containers/create`. */
  path: string;
}

export interface CreateRecorder {
  socket: string;
  /**
   * Runs the docker CLI (`create …args`, or `run …args` with verb 'run') against the recorder;
   * the create it sent, if any. A `run` then fails on the 404 of attach/start, after the create.
   */
  create(
    args: string[],
    env?: Record<string, string>,
    cwd?: string,
    verb?: 'create' | 'run',
  ): Promise<{ code: number; stdout: string; stderr: string; request?: RecordedCreate }>;
  close(): Promise<void>;
}

const ID = 'a'.repeat(64);

export async function startCreateRecorder(docker = '/usr/local/bin/docker'): Promise<CreateRecorder> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-create-rec-'));
  const socket = join(dir, 'engine.sock');
  let last: RecordedCreate | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const path = url.pathname.replace(/^\/v[0-9.]+/, '');
      if (path === '/_ping') {
        const body = req.method === 'HEAD' ? '' : 'OK';
        res.writeHead(200, {
          'Api-Version': '1.41',
          'Cache-Control': 'no-cache, no-store, must-revalidate',
          Pragma: 'no-cache',
          'Docker-Experimental': 'false',
          Ostype: 'linux',
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': String(body.length),
        });
        res.end(body);
        return;
      }
      if (req.method === 'POST' && path === '/containers/create') {
        last = {
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        };
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Id: ID, Warnings: [] }));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `page not found: ${req.method} ${url.pathname}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  const configDir = join(dir, 'config');
  return {
    socket,
    create(args, env = {}, cwd = dir, verb = 'create') {
      last = undefined;
      return new Promise((resolve, reject) => {
        const child = spawn(docker, [verb, ...args], {
          cwd,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: dir,
            DOCKER_HOST: `unix://${socket}`,
            DOCKER_CONFIG: configDir,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, request: last }));
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
