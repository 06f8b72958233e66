import type { Server } from "node:http";
import type { Server as TlsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** A test server listening on 127.0.0.1. */
export interface Loopback {
  port: number;
  /** `http(s)://127.0.0.1:<port>/v1`, what an OpenAI client takes as its base URL. */
  url: string;
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 and a free port: tests never listen beyond this machine. */
export async function listenOnLoopback(server: Server | TlsServer): Promise<Loopback> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    // An HTTPS server is a TLS server, the only kind with `addContext`.
    url: `${"addContext" in server ? "https" : "http"}://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from the SDK's fetch would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
