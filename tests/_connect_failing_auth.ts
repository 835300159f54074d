import process from "node:process";
// Run as a child process by connection_test.ts: connect with a wrong token many times,
// then say so. An uncaught socket error would end the process before "alive".
import { Events } from "../mod.ts";

const [url, times] = [process.argv.at(-2)!, Number(process.argv.at(-1))];
let refused = 0;
for (let i = 0; i < times; i++) {
  try {
    const conn = await new Events().connect({ servers: url, ...(i % 2 ? { token: "wrong" } : {}) });
    await conn.close();
  } catch (error) {
    if (!/Authorization Violation/.test(String((error as Error).message))) throw error;
    refused++;
  }
}
// Stray socket errors come after the failed connect: give them time to arrive.
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(`alive after ${refused} refused connects`);
