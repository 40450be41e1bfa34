// Preloaded with `node --import` by the fault tests: the disk "fills up" after
// BP_TEST_FULL_DISK_AFTER checkpoint files (or, given BP_TEST_FULL_DISK_FILE, files
// whose path contains it) have been opened for writing. The next such write takes
// half its bytes and then fails with ENOSPC, as a full disk does, so the tests can
// show that the previous checkpoint survives.
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const allowed = Number(process.env.BP_TEST_FULL_DISK_AFTER ?? 0);
const file = process.env.BP_TEST_FULL_DISK_FILE ?? 'checkpoint.safetensors';
let opened = 0;
const open = fsp.open;

fsp.open = async function openOnAFillingDisk(path, ...rest) {
  const handle = await open.call(this, path, ...rest);
  if (!String(path).includes(file) || rest[0] !== 'w') return handle;
  opened++;
  if (opened <= allowed) return handle;
  const writeFile = handle.writeFile.bind(handle);
  handle.writeFile = async (data, ...more) => {
    await writeFile(typeof data === 'string' ? data.slice(0, data.length >> 1) : data.subarray(0, data.length >> 1), ...more);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  return handle;
};
syncBuiltinESMExports();
