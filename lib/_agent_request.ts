/**
 * The messages an Agent understands, shared by `agent.ts` and the kv
 * server's bucket batches, which build an update request once and send it
 * again and again (`lib/apps/kv_server/_bucket_ops.ts`). Not part of the public API.
 *
 * @module
 */

/** Request kinds: reply `fn(state)`; store `fn(state)`; reply and store `fn(state)`'s pair. */
export const GET = 0, UPDATE = 1, GET_AND_UPDATE = 2;

/** An Agent call: its kind and the function to run on the state. */
export type AgentRequest = readonly [number, (s: any) => any];
