/**
 * The file system a {@linkcode DiskLog} works through: {@linkcode nodeFileSystem}
 * (the real one, `node:fs`, on Bun, Deno and Node) or
 * {@linkcode MemoryFileSystem}, an in-memory one for tests that can inject
 * short writes, a full disk, failed fsyncs and power loss (every byte not
 * yet synced is dropped).
 *
 * Every call is synchronous except {@linkcode FileSystem.fdatasync}, which
 * runs off the JavaScript thread on a real disk ({@linkcode FileSystem.fdatasyncSync}
 * is its blocking twin, for a log's `fsync: "inline"`).
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./fs.ts";
 * import assert from "node:assert/strict";
 * const fs = new MemoryFileSystem();
 * const fd = fs.open("/d/a");
 * fs.write(fd, new Uint8Array([1, 2, 3]), 0, 3, 0);
 * const lost = fs.powerLoss(); // nothing was synced
 * assert.equal(lost.size("/d/a"), 0);
 * ```
 *
 * @module
 */
import * as nodeFs from "node:fs";

/** What a disk log needs from a file system. Paths are `/`-separated. */
export interface FileSystem {
  /** Opens (creating if needed) a file for reading and writing; returns a descriptor. */
  open(path: string): number;
  /** Closes a descriptor. */
  close(fd: number): void;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns how many were read. */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes `buffer[offset..offset+length]` at `position`; may write fewer bytes (returns how many); throws on error. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Cuts (or extends) the file to `length` bytes. */
  truncate(fd: number, length: number): void;
  /** Flushes the file's data to stable storage; `done(error)` when finished. Off the main thread. */
  fdatasync(fd: number, done: (error: Error | null) => void): void;
  /** Flushes the file's data to stable storage on the calling thread; throws on error. Optional: `fsync: "inline"` needs it. */
  fdatasyncSync?(fd: number): void;
  /** The file's size in bytes (0 when it does not exist). */
  size(path: string): number;
  /** The names (not paths) of the files in `dir`; `[]` if it does not exist. */
  list(dir: string): string[];
  /** Creates `dir` and its parents. */
  mkdir(dir: string): void;
  /** Renames atomically (replaces `to`). */
  rename(from: string, to: string): void;
  /** Deletes a file (no error if missing). */
  unlink(path: string): void;
  /** Makes `dir`'s entries (creations, renames, deletions) durable. */
  syncDir(dir: string): void;
}

/**
 * The real file system, through `node:fs`.
 *
 * @example
 * ```ts
 * import { nodeFileSystem } from "./fs.ts";
 * console.assert(nodeFileSystem.size("/no/such/file") === 0);
 * ```
 */
export const nodeFileSystem: FileSystem = {
  open: (path) => nodeFs.openSync(path, nodeFs.existsSync(path) ? "r+" : "w+"),
  close: (fd) => nodeFs.closeSync(fd),
  read: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  write: (fd, buffer, offset, length, position) => nodeFs.writeSync(fd, buffer, offset, length, position),
  truncate: (fd, length) => nodeFs.ftruncateSync(fd, length),
  fdatasync: (fd, done) => nodeFs.fdatasync(fd, (error) => done(error ?? null)),
  fdatasyncSync: (fd) => nodeFs.fdatasyncSync(fd),
  size(path) {
    try {
      return nodeFs.statSync(path).size;
    } catch {
      return 0;
    }
  },
  list(dir) {
    try {
      return nodeFs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  mkdir: (dir) => void nodeFs.mkdirSync(dir, { recursive: true }),
  rename: (from, to) => nodeFs.renameSync(from, to),
  unlink(path) {
    try {
      nodeFs.unlinkSync(path);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
    }
  },
  syncDir(dir) {
    const fd = nodeFs.openSync(dir, "r");
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
};

/** An error with a Node-style `code`, as `node:fs` throws. */
export class FsError extends Error {
  /** `ENOSPC`, `EIO`, ... */
  readonly code: string;
  /** @param code The error code. @param message What failed. */
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = "FsError";
    this.code = code;
  }
}

class MemFile {
  bytes = new Uint8Array(64);
  length = 0;
  /** The content as of the last fdatasync (what survives a power loss). */
  synced = new Uint8Array(0);
  /** Present in the directory as of the last directory sync. */
  durableName = false;
}

/**
 * An in-memory {@linkcode FileSystem} with fault injection, for tests.
 *
 * - {@linkcode MemoryFileSystem.capacity}: total bytes the "disk" holds; a write past it is
 *   short (as Bun and Node do on a full disk), the next one throws `ENOSPC`.
 * - {@linkcode MemoryFileSystem.failFsync}: the next fdatasync fails with `EIO`.
 * - {@linkcode MemoryFileSystem.powerLoss}: a copy holding only what was synced (file
 *   data by fdatasync, names by `syncDir`).
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./fs.ts";
 * import assert from "node:assert/strict";
 * const fs = new MemoryFileSystem();
 * fs.capacity = 4;
 * const fd = fs.open("/f");
 * assert.equal(fs.write(fd, new Uint8Array(10), 0, 10, 0), 4); // short write
 * assert.throws(() => fs.write(fd, new Uint8Array(1), 0, 1, 4), /ENOSPC/);
 * ```
 */
export class MemoryFileSystem implements FileSystem {
  readonly #files = new Map<string, MemFile>();
  readonly #fds = new Map<number, MemFile>();
  #nextFd = 3;
  #fullOnce = false;
  /** Bytes the disk holds in all; `Infinity` by default. */
  capacity = Infinity;
  /** When set, the next fdatasync fails with `EIO` (then this resets). */
  failFsync = false;
  /** How many fdatasync calls were made. */
  fsyncs = 0;
  /** Runs the fdatasync callbacks (a microtask by default: fdatasync never calls back synchronously). */
  defer: (fn: () => void) => void = (fn) => queueMicrotask(fn);

  /** How many file descriptors are open (a log keeps its active file's open until closed). */
  get openFds(): number {
    return this.#fds.size;
  }

  #used(): number {
    let n = 0;
    for (const f of this.#files.values()) n += f.length;
    return n;
  }
  #fd(fd: number): MemFile {
    const f = this.#fds.get(fd);
    if (f === undefined) throw new FsError("EBADF", `bad file descriptor ${fd}`);
    return f;
  }
  open(path: string): number {
    let f = this.#files.get(path);
    if (f === undefined) this.#files.set(path, f = new MemFile());
    const fd = this.#nextFd++;
    this.#fds.set(fd, f);
    return fd;
  }
  close(fd: number): void {
    this.#fds.delete(fd);
  }
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.#fd(fd);
    const n = Math.max(0, Math.min(length, f.length - position));
    buffer.set(f.bytes.subarray(position, position + n), offset);
    return n;
  }
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.#fd(fd);
    const grow = Math.max(0, position + length - f.length);
    const room = this.capacity - this.#used();
    let n = length;
    if (grow > room) {
      if (room <= 0 && this.#fullOnce) throw new FsError("ENOSPC", "no space left on device");
      this.#fullOnce = true;
      n = Math.max(0, length - (grow - Math.max(0, room)));
      if (n === 0) throw new FsError("ENOSPC", "no space left on device");
    } else {
      this.#fullOnce = false;
    }
    const end = position + n;
    if (end > f.bytes.length) {
      const grown = new Uint8Array(Math.max(end, f.bytes.length * 2));
      grown.set(f.bytes.subarray(0, f.length));
      f.bytes = grown;
    }
    f.bytes.set(buffer.subarray(offset, offset + n), position);
    if (end > f.length) f.length = end;
    return n;
  }
  truncate(fd: number, length: number): void {
    const f = this.#fd(fd);
    if (length > f.bytes.length) {
      const grown = new Uint8Array(length);
      grown.set(f.bytes.subarray(0, f.length));
      f.bytes = grown;
    }
    if (length > f.length) f.bytes.fill(0, f.length, length);
    f.length = length;
  }
  fdatasync(fd: number, done: (error: Error | null) => void): void {
    // The same sync, its outcome told later, as a thread's would be.
    let error: Error | null = null;
    try {
      this.fdatasyncSync(fd);
    } catch (e) {
      error = e as Error;
    }
    this.defer(() => done(error));
  }
  fdatasyncSync(fd: number): void {
    this.fsyncs++;
    const f = this.#fd(fd);
    if (this.failFsync) {
      this.failFsync = false;
      throw new FsError("EIO", "fdatasync failed");
    }
    f.synced = f.bytes.slice(0, f.length);
  }
  size(path: string): number {
    return this.#files.get(path)?.length ?? 0;
  }
  list(dir: string): string[] {
    const prefix = dir.endsWith("/") ? dir : dir + "/";
    const names: string[] = [];
    for (const path of this.#files.keys()) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes("/")) names.push(path.slice(prefix.length));
    }
    return names;
  }
  mkdir(_dir: string): void {}
  rename(from: string, to: string): void {
    const f = this.#files.get(from);
    if (f === undefined) throw new FsError("ENOENT", `no such file ${from}`);
    this.#files.delete(from);
    f.durableName = false;
    this.#files.set(to, f);
  }
  unlink(path: string): void {
    this.#files.delete(path);
  }
  syncDir(dir: string): void {
    for (const name of this.list(dir)) this.#files.get(dir + "/" + name)!.durableName = true;
  }
  /** Syncs every file and name now (as if the machine had been idle for a while). */
  syncAll(): void {
    for (const f of this.#files.values()) {
      f.synced = f.bytes.slice(0, f.length);
      f.durableName = true;
    }
  }
  /**
   * The disk as a power loss leaves it: only synced bytes, and (for files never
   * named durably by `syncDir`) the name only if its data was synced.
   */
  powerLoss(): MemoryFileSystem {
    const after = new MemoryFileSystem();
    for (const [path, f] of this.#files) {
      if (!f.durableName && f.synced.length === 0) continue;
      const g = new MemFile();
      g.bytes = f.synced.slice();
      g.length = f.synced.length;
      g.synced = f.synced.slice();
      g.durableName = true;
      after.#files.set(path, g);
    }
    return after;
  }
  /** The disk as a process crash leaves it: every byte written so far (the page cache survives). */
  snapshot(): MemoryFileSystem {
    const after = new MemoryFileSystem();
    for (const [path, f] of this.#files) {
      const g = new MemFile();
      g.bytes = f.bytes.slice(0, f.length);
      g.length = f.length;
      g.synced = f.synced.slice();
      g.durableName = f.durableName;
      after.#files.set(path, g);
    }
    return after;
  }
  /** A byte of a file, changed in place (for damage tests). */
  flipByte(path: string, position: number): void {
    const f = this.#files.get(path);
    if (f === undefined || position >= f.length) throw new RangeError(`no byte ${position} in ${path}`);
    f.bytes[position] ^= 0xff;
  }
  /** Cuts a file to `length` bytes (a torn write). */
  cut(path: string, length: number): void {
    const f = this.#files.get(path);
    if (f === undefined) throw new RangeError(`no file ${path}`);
    f.length = Math.min(f.length, length);
  }
}
