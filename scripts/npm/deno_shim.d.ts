// For the npm build only: the few names of Deno's API that lib/net/_deno.ts uses, loosely
// typed. That adapter is loaded only on Deno; its declarations export none of these types.
declare namespace Deno {
  type NetAddr = any;
  type TcpConn = any;
  const listen: any;
  const connect: any;
}
