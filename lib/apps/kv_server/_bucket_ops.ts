/**
 * {@linkcode BucketBatch}: several `GET`/`PUT`/`DELETE` on one bucket, run
 * in **one** message to its process. The server's batches (see
 * `KvStore.executeMany`) thus cost one call per bucket per read instead of
 * one per request. {@linkcode OneBucketRun} is the same for a read whose
 * requests all go to one bucket (the usual case), pooled so that at one
 * request per read it allocates next to nothing.
 *
 * The operations are applied to the bucket agent's state with the meaning of
 * `Bucket.get`, `Bucket.put` and `Bucket.del` (`tests/apps/kv_server/server_test.ts`
 * checks them against each other). They rely on the state's documented shape
 * (`Bucket.State`: `null`, a `Bucket.Single`, or a `Map`); a state of any
 * other shape is left untouched and the operations answer `ERROR`, so a
 * bucket never crashes on the server's account.
 *
 * @module
 */

import { Agent, DiskLog, type Pid, Process } from "../../../mod.ts";
import { Bucket, KVLog } from "../kv/mod.ts";
import { type Command, EMPTY_OK, ERROR, OK, type Reply } from "./command.ts";

const { Single } = Bucket;
const { _logDelete, _logPut, durableOf } = KVLog;
const { isWritable } = DiskLog;
type State = Bucket.State;

/** Who runs a {@linkcode BucketBatch} and hears how it went. */
export interface BatchOwner {
  /** The batch was applied; its replies are written. */
  ran(): void;
  /** The call failed; the replies are not written. */
  failed(batch: BucketBatch, error: unknown): void;
}

type BucketCommand = Extract<Command, { kind: "get" | "put" | "delete" }>;

/** Operations on one bucket, in request order; each writes its reply into a shared array. */
export class BucketBatch {
  /** The commands. */
  readonly commands: BucketCommand[] = [];
  /** Where each command's reply goes in `replies`. */
  readonly indexes: number[] = [];
  /** The batch's replies (shared by every bucket of the batch). */
  readonly replies: Reply[];

  /** @param replies Where the replies go. */
  constructor(replies: Reply[]) {
    this.replies = replies;
  }

  /** Appends a command whose reply goes to `replies[index]`. */
  add(command: BucketCommand, index: number): void {
    this.commands.push(command);
    this.indexes.push(index);
  }

  /** Answers every command with `reply` (the call failed). */
  fail(reply: Reply): void {
    const { indexes, replies } = this;
    for (let i = 0; i < indexes.length; i++) replies[indexes[i]] = reply;
  }

  /** Applies the commands to a bucket's state and writes the replies; runs inside the bucket's process. */
  apply(bucket: Pid, s: State): State {
    return applyCommands(bucket, s, this.commands, this.indexes, this.replies);
  }

  /**
   * Sends the batch to `bucket` in one call; `to.ran()` once applied (the
   * replies are written), or `to.failed(batch, error)` if the call fails
   * (`noproc` when the bucket is gone), replies unwritten.
   *
   * @param bucket The bucket's process.
   * @param to Told how it went.
   */
  run(bucket: Pid, to: BatchOwner): void {
    // No timeout: `apply` is pure and quick, and the call fails at once if the bucket dies.
    Agent.updateWith(bucket, (s: State) => this.apply(bucket, s), (error) => {
      if (error === undefined) to.ran();
      else to.failed(this, error);
    }, Infinity);
  }
}

/**
 * Applies `commands` to a bucket's state, writing reply `i` to
 * `replies[indexes[i]]` (or `replies[i]` when `indexes` is null); runs
 * inside the bucket's process. A state of unknown shape is left untouched
 * and every command answers `ERROR`. In a durable tree each change is
 * appended to the log as it is applied (so the log's order is the order of
 * the changes); while the log cannot take writes (disk full), a change
 * answers `ERROR` and is not applied.
 */
function applyCommands(
  bucket: Pid,
  s: State,
  commands: readonly Command[],
  indexes: number[] | null,
  replies: Reply[],
): State {
  if (!(s === null || s instanceof Single || s instanceof Map)) {
    for (let i = 0; i < commands.length; i++) replies[indexes === null ? i : indexes[i]] = ERROR;
    return s;
  }
  const durable = durableOf(bucket);
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i] as BucketCommand;
    const key = command.key;
    if (command.kind === "get") {
      const value = s === null ? undefined : s instanceof Single ? (s.key === key ? s.value : undefined) : s.get(key);
      replies[indexes === null ? i : indexes[i]] = value === undefined ? EMPTY_OK : value;
      continue;
    }
    if (durable !== undefined) {
      if (!isWritable(durable.log)) {
        replies[indexes === null ? i : indexes[i]] = ERROR;
        continue;
      }
      if (command.kind === "put") _logPut(durable, key, command.value);
      else if (s !== null && (s instanceof Single ? s.key === key : s.has(key))) _logDelete(durable, key);
    }
    if (command.kind === "put") {
      const value = command.value;
      if (s === null) s = new Single(key, value);
      else if (s instanceof Single) {
        s = s.key === key ? new Single(key, value) : new Map([[s.key, s.value], [key, value]]);
      } else s.set(key, value);
    } else if (s instanceof Single) {
      if (s.key === key) s = null;
    } else if (s !== null && s.delete(key) && s.size === 1) {
      const [[k, v]] = s;
      s = new Single(k, v);
    }
    replies[indexes === null ? i : indexes[i]] = OK;
  }
  return s;
}

/** What a {@linkcode OneBucketRun} reports failures to. */
type OnError = ((error: unknown) => void) | undefined;

/** Finished runs, ready for reuse: the hot path then allocates no run, batch or closure. */
const pool: OneBucketRun[] = [];
const POOL_LIMIT = 1024;

function send(run: OneBucketRun): void {
  run.send();
}

/**
 * A read whose requests all go to one bucket (a client's usual read): one
 * call carrying all of them. Runs are pooled and reused, with their
 * callbacks made once, because at one request per read this is the
 * server's per-request cost.
 */
export class OneBucketRun {
  #bucket: Pid | null = null;
  #commands: readonly Command[] = [];
  #replies: Reply[] = [];
  #done: ((replies: Reply[]) => void) | null = null;
  #onError: OnError = undefined;
  #pending = false;
  #deferred = false;
  /** The Agent update request, built once: the call sends it as is. */
  readonly #request: Agent.PreparedUpdate<State> = Agent.prepareUpdate(
    (s: State): State => applyCommands(this.#bucket!, s, this.#commands, null, this.#replies),
  );
  readonly #settled = (error?: unknown): void => this.#finish(error);

  /**
   * Sends `commands` to `bucket`, running it at once (see `runAfter`).
   * Returns the replies when the bucket answered before this returns, else
   * `undefined`, and `done` gets them later.
   *
   * @param bucket The bucket's process.
   * @param commands `GET`/`PUT`/`DELETE` commands on that bucket.
   * @param done Gets the replies when they were not returned.
   * @param onError Told about a failed call (the replies are then `ERROR`).
   * @returns The replies, or `undefined`.
   */
  static run(
    bucket: Pid,
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError: OnError,
  ): Reply[] | undefined {
    const run = pool.pop() ?? new OneBucketRun();
    const replies: Reply[] = new Array(commands.length);
    run.#bucket = bucket;
    run.#commands = commands;
    run.#replies = replies;
    run.#done = done;
    run.#onError = onError;
    run.#pending = true;
    run.#deferred = false;
    Process.runAfter(send, run);
    if (run.#pending) {
      run.#deferred = true;
      return undefined;
    }
    run.#release();
    return replies;
  }

  /** @ignore Sends the call (from `runAfter`). */
  send(): void {
    // The prepared request goes as is. No timeout: the update is pure and
    // quick, and the call fails at once if the bucket dies.
    Agent.updateWith(this.#bucket!, this.#request, this.#settled, Infinity);
  }

  #finish(error: unknown): void {
    if (error !== undefined) {
      try {
        this.#onError?.(error);
      } catch {
        // A broken error hook must not break the reply.
      }
      this.#replies.fill(ERROR);
    }
    this.#pending = false;
    if (!this.#deferred) return;
    const done = this.#done!, replies = this.#replies;
    this.#release();
    done(replies);
  }

  #release(): void {
    this.#bucket = null;
    this.#commands = [];
    this.#replies = [];
    this.#done = null;
    this.#onError = undefined;
    if (pool.length < POOL_LIMIT) pool.push(this);
  }
}
