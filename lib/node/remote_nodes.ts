/**
 * What this node holds with each other node: connections, links, monitors
 * both ways and calls in flight (the Observer's `/api/nodes`).
 *
 * @example
 * ```ts
 * import { remoteNodes } from "../../mod.ts";
 * for (const n of remoteNodes()) console.log(n.node, n.connected, n.links, n.monitors);
 * ```
 *
 * @module
 */
export { type RemoteNodeInfo, remoteNodes } from "./_remote.ts";
