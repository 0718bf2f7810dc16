import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTranscripts } from '../../../src/store/file/file-transcripts.js';
import { digestOf } from '../../../src/store/transcript-store.js';
import { tempDir } from '../../helpers/fixtures.js';

describe('stored transcripts in a file store', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('are 0600 files in a 0700 folder, read back byte for byte, with their digest', async () => {
    const store = new FileTranscripts(join(dir, 'store'));
    const id = uuidv4();
    const content = Buffer.from('{"type":"user","message":{"role":"user","content":"secret"}}\n');
    expect(await store.save(id, content)).toEqual(digestOf(content));
    expect((await stat(store.fileOf(id))).mode & 0o777).toBe(0o600);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    expect(await store.load(id)).toEqual(content);
    expect(await store.list()).toEqual([id]);
    expect(await store.load(uuidv4())).toBeNull();
  });

  it('refuse a name that is not a UUID, before touching the disk', async () => {
    const store = new FileTranscripts(join(dir, 'store'));
    for (const bad of ['../../etc/passwd', 'x', '', `${uuidv4()}/..`]) {
      await expect(store.save(bad, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store.load(bad)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await expect(stat(store.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never follow a symlinked transcript or folder', async () => {
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'not yours');
    const store = new FileTranscripts(join(dir, 'store'));
    const id = uuidv4();
    await mkdir(store.dir, { recursive: true });
    await symlink(outside, store.fileOf(id));
    await expect(store.load(id)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('symlink') });
    const linked = new FileTranscripts(join(dir, 'linked'));
    await mkdir(join(dir, 'linked'));
    await symlink(join(dir, 'elsewhere'), linked.dir);
    await mkdir(join(dir, 'elsewhere'));
    await expect(linked.load(id)).rejects.toMatchObject({ code: 'STORAGE' });
    await expect(linked.save(id, Buffer.from('x'))).rejects.toMatchObject({ code: 'STORAGE' });
    expect(await readFile(outside, 'utf8')).toBe('not yours');
  });
});
