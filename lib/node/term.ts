/**
 * STUB (distnode branch): the shapes of the distcodec helper's term codec, so
 * the process layer compiles before the codec lands. Replaced by distcodec's
 * `term.ts` at merge.
 *
 * @module
 */

/** A pid of any node, as decoded. */
export class ErlPid {
  /** @internal */
  constructor(
    readonly node: string | symbol,
    readonly id: number,
    readonly serial: number,
    readonly creation: number,
  ) {}
}

/** A reference of any node, as decoded. */
export class ErlRef {
  /** @internal */
  constructor(readonly node: string | symbol, readonly creation: number, readonly ids: readonly number[]) {}
}

/** A list with an improper tail, or a list that must stay a list. */
export class List {
  /** @internal */
  constructor(readonly items: unknown[], readonly tail: unknown = NIL) {}
}

/** The empty list. */
export const NIL: unique symbol = Symbol("[]");
