/**
 * Makes `busybox:latest` available offline: imports this machine's busybox-static as an image
 * into berthd's data root (idempotent; the same image ID on every run).
 *
 *   node --import tsx scripts/busybox-image.ts [--data-root DIR] [--storage-driver overlayfs|native] [--reference NAME]
 *
 * The data root defaults to $BERTH_DATA_ROOT, else /var/lib/berth. Prints `<name> <id> imported`
 * or `<name> <id> present`; exits 1 with the error on failure.
 */
import { parseArgs } from 'node:util';
import { importBusybox } from '../src/images/busybox.js';
import { openImageService } from '../src/images/service.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-root': { type: 'string' },
      'storage-driver': { type: 'string' },
      reference: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'Usage: busybox-image [--data-root DIR] [--storage-driver overlayfs|native] [--reference NAME]\n\nImports busybox-static as busybox:latest.\n',
    );
    return;
  }
  const root = values['data-root'] ?? process.env.BERTH_DATA_ROOT ?? '/var/lib/berth';
  const sd = values['storage-driver'] ?? 'overlayfs';
  const snapshotter = sd === 'overlay2' || sd === 'overlayfs' ? 'overlayfs' : sd === 'vfs' || sd === 'native' ? 'native' : undefined;
  if (snapshotter === undefined) throw new Error(`unsupported storage driver: ${sd}`);
  await using svc = await openImageService({ root, snapshotter });
  const r = await importBusybox(svc, values.reference === undefined ? {} : { reference: values.reference });
  process.stdout.write(`${r.name} ${r.id} ${r.imported ? 'imported' : 'present'}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`busybox-image: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
