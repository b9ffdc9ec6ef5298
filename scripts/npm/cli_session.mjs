// Runs `node <cli.js> serve --port 0`, waits for the line with its port, sends a pipelined
// session, checks the replies, then SIGTERM and a clean exit. Exits 1 with one line otherwise.
import { spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";

const cli = process.argv[2];
const fail = (why) => {
  console.error(`kv CLI under Node: ${why}`);
  process.exit(1);
};
const child = spawn(process.execPath, [cli, "serve", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
let output = "";
child.stderr.on("data", (chunk) => output += chunk);
const port = await new Promise((resolve) => {
  child.stdout.on("data", (chunk) => {
    output += chunk;
    const m = /listening on [^\s:]+:(\d+)/.exec(output);
    if (m) resolve(Number(m[1]));
  });
  child.on("exit", (code) => fail(`exited with ${code} before listening:\n${output.trim()}`));
});
const replies = await new Promise((resolve, reject) => {
  let got = "";
  const socket = net.connect(port, "127.0.0.1", () => socket.end("CREATE a\r\nPUT a k v\r\nGET a k\r\nGET zz k\r\n"));
  socket.on("data", (chunk) => got += chunk);
  socket.on("close", () => resolve(got));
  socket.on("error", reject);
});
const expected = "OK\r\nOK\r\nv\r\nOK\r\nNOT FOUND\r\n";
if (replies !== expected) fail(`replied ${JSON.stringify(replies)}, wanted ${JSON.stringify(expected)}`);
child.removeAllListeners("exit");
const code = await new Promise((resolve) => {
  child.on("exit", (c) => resolve(c));
  child.kill("SIGTERM");
});
if (code !== 0) fail(`exited with ${code} after SIGTERM:\n${output.trim()}`);
console.log(
  `kv CLI under Node ${process.version}: served port ${port}, answered a pipelined session, stopped on SIGTERM`,
);
