/**
 * The runtime library's public surface, for an embedder (the engine) that drives containers
 * in-process: the verbs, the prepare/launch split, the launcher and effects seams, and the types
 * they take. docs/architecture.md ("How an embedder uses the library") says how they fit.
 */
export type { CgroupDir } from './cgroups/manager.js';
export type { ContainerRecord, HookState, ProcessIdentity } from './container/container.js';
export { Container, validateId } from './container/container.js';
export type { CreateOptions, Launched, LaunchMode, PreparedContainer } from './container/create.js';
export { create, launch, launchPrepared, loadBundleConfig, prepare } from './container/create.js';
export type { DeleteOptions } from './container/delete.js';
export { collectTombs, deleteContainer, hasTombs } from './container/delete.js';
export type { ContainerEvent } from './container/events.js';
export { containerEvents, containerStats } from './container/events.js';
export type { ExecOptions, ExecResult } from './container/exec.js';
export { exec } from './container/exec.js';
export type { HostFacts } from './container/host.js';
export { readHostFacts } from './container/host.js';
export { kill, parseSignal } from './container/kill.js';
export { list } from './container/list.js';
export type { ContainerLock } from './container/lock.js';
export { lockContainer } from './container/lock.js';
export { pause, resume } from './container/pause.js';
export { containerPids } from './container/ps.js';
export type { RunResult, SignalSource } from './container/run.js';
export { run } from './container/run.js';
export { start } from './container/start.js';
export { update } from './container/update.js';
export type { Effects } from './effects.js';
export { hostEffects } from './effects.js';
export type { HookIo } from './hooks/run.js';
export type { Launcher, LaunchMessage, LaunchOptions, LaunchSession, StdioHandles } from './launcher/launcher.js';
export { nsinitLauncher, nsinitPath } from './launcher/nsinit.js';
