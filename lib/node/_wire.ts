/**
 * STUB (distnode branch): the seam of the distcodec helper's wire layer.
 * Replaced by distcodec's `_wire.ts` at merge. Until then a test may plug a
 * fake transport with {@linkcode _setFakeWire}.
 *
 * @module
 */

/** Told of each control message a peer sends. */
export type ControlHandler = (fromNode: string, control: unknown, payload: unknown) => void;

interface Wire {
  send(node: string, control: unknown, payload?: unknown): boolean;
  self(): string;
  creation(): number;
}

let handler: ControlHandler | null = null;
const downHandlers: Array<(node: string, reason: unknown) => void> = [];
let wire: Wire = { send: () => false, self: () => "nonode@nohost", creation: () => 0 };

/** Sets who hears incoming control messages. */
export function setControlHandler(fn: ControlHandler): void {
  handler = fn;
}
/** Sends a control message (and payload) to `node`; false when it cannot be reached. */
export function sendControl(node: string, control: unknown, payload?: unknown): boolean {
  return wire.send(node, control, payload);
}
/** Adds a listener for lost connections. */
export function onNodeDown(fn: (node: string, reason: unknown) => void): void {
  downHandlers.push(fn);
}
/** This node's name. */
export function selfNode(): string {
  return wire.self();
}
/** This node's creation. */
export function creation(): number {
  return wire.creation();
}
/** @internal Test seam of the stub: plug a fake transport; returns the injectors. */
export function _setFakeWire(w: Wire): {
  control(from: string, control: unknown, payload?: unknown): void;
  down(node: string, reason: unknown): void;
} {
  wire = w;
  return {
    control: (from, c, p) => handler?.(from, c, p),
    down: (n, r) => {
      for (const d of downHandlers) d(n, r);
    },
  };
}
