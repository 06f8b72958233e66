import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpFetch } from "../../src/providers/http-fetch.js";
import { type Loopback, listenOnLoopback } from "../helpers/loopback.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A loopback server whose handler each test writes; it records every request and counts sockets. */
async function startServer(handle: (seen: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const entry = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      handle(entry, res);
    });
  });
  server.on("connection", () => connections++);
  const loopback = await listenOnLoopback(server);
  return { ...loopback, seen, connections: () => connections };
}

const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(handle: (seen: Seen, res: ServerResponse) => void) {
  const server = await startServer(handle);
  servers.push(server);
  return server;
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
};

describe("createHttpFetch", () => {
  it("sends method, headers and body, and answers like fetch: status, headers, json", async () => {
    const server = await serve((_seen, res) => json(res, 201, { ok: true }, { "x-request-id": "req_1" }));
    const httpFetch = createHttpFetch();
    const response = await httpFetch(`http://127.0.0.1:${server.port}/v1/thing?x=1`, {
      method: "post",
      headers: new Headers({ "Content-Type": "application/json", Authorization: "Bearer sk-test" }),
      body: '{"a":"é"}',
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get("x-request-id")).toBe("req_1");
    expect(await response.json()).toEqual({ ok: true });
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);

    const [request] = server.seen;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/thing?x=1");
    expect(request.body).toBe('{"a":"é"}');
    // The byte length, not the character count: "é" is two bytes.
    expect(request.headers["content-length"]).toBe("10");
    expect(request.headers.authorization).toBe("Bearer sk-test");
    expect(request.headers["accept-encoding"]).toBe("gzip, deflate, br");
  });

  it("reuses keep-alive sockets for calls made one after another", async () => {
    const server = await serve((_seen, res) => json(res, 200, { n: 1 }));
    const httpFetch = createHttpFetch();
    for (let i = 0; i < 10; i++) {
      const response = await httpFetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "{}" });
      await response.json();
    }
    expect(server.seen).toHaveLength(10);
    // undici may open a second socket while the first is still being released; never one per call.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it("decodes gzip, deflate and brotli bodies", async () => {
    const payload = JSON.stringify({ text: "squeezed ".repeat(50) });
    const encoders: Record<string, (input: string) => Buffer> = {
      gzip: (input) => gzipSync(input),
      deflate: (input) => deflateSync(input),
      br: (input) => brotliCompressSync(input),
    };
    const server = await serve((seen, res) => {
      const encoding = seen.url.slice(1);
      res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding });
      res.end(encoders[encoding](payload));
    });
    const httpFetch = createHttpFetch();
    for (const encoding of Object.keys(encoders)) {
      const response = await httpFetch(`http://127.0.0.1:${server.port}/${encoding}`);
      expect(await response.text(), encoding).toBe(payload);
    }
  });

  it("keeps an error answer's status and body", async () => {
    const server = await serve((_seen, res) => json(res, 500, { error: { message: "boom" } }));
    const response = await createHttpFetch()(`http://127.0.0.1:${server.port}/`);
    expect(response.ok).toBe(false);
    expect(response.status).toBe(500);
    expect(JSON.parse(await response.text())).toEqual({ error: { message: "boom" } });
  });

  it("follows redirects as fetch does: 307 keeps the POST, 303 turns into a GET", async () => {
    const server = await serve((seen, res) => {
      if (seen.url === "/keep") {
        res.writeHead(307, { location: "/landing" });
        res.end();
      } else if (seen.url === "/see-other") {
        res.writeHead(303, { location: "/landing" });
        res.end();
      } else json(res, 200, { method: seen.method, body: seen.body });
    });
    const httpFetch = createHttpFetch();
    const kept = await httpFetch(`http://127.0.0.1:${server.port}/keep`, { method: "POST", body: "payload" });
    expect(await kept.json()).toEqual({ method: "POST", body: "payload" });
    const seeOther = await httpFetch(`http://127.0.0.1:${server.port}/see-other`, {
      method: "POST",
      body: "payload",
    });
    expect(await seeOther.json()).toEqual({ method: "GET", body: "" });
  });

  it("does not carry the authorization header to another origin on a redirect", async () => {
    const target = await serve((seen, res) => json(res, 200, { auth: seen.headers.authorization ?? null }));
    const origin = await serve((_seen, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${target.port}/` });
      res.end();
    });
    const response = await createHttpFetch()(`http://127.0.0.1:${origin.port}/`, {
      headers: { authorization: "Bearer sk-secret" },
    });
    expect(await response.json()).toEqual({ auth: null });
  });

  it("rejects with an AbortError when aborted before the call or while waiting for the answer", async () => {
    const server = await serve(() => {
      // Never answers: only the abort can end the call.
    });
    const httpFetch = createHttpFetch();
    const before = new AbortController();
    before.abort();
    await expect(
      httpFetch(`http://127.0.0.1:${server.port}/`, { signal: before.signal }),
    ).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(server.seen).toHaveLength(0);

    const during = new AbortController();
    const pending = httpFetch(`http://127.0.0.1:${server.port}/`, {
      method: "POST",
      body: "x",
      signal: during.signal,
    });
    while (server.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    during.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("stops a body that is still streaming when the signal aborts", async () => {
    const server = await serve((_seen, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      // The rest never comes.
    });
    const controller = new AbortController();
    const response = await createHttpFetch()(`http://127.0.0.1:${server.port}/`, {
      signal: controller.signal,
    });
    const body = response.body as unknown as AsyncIterable<Buffer>;
    const chunks: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of body) {
          chunks.push(chunk.toString());
          controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: "AbortError" });
    expect(chunks).toEqual(["data: first\n\n"]);
  });

  it("fails a body the server cuts off as fetch does, read whole or streamed, plain or gzipped", async () => {
    const server = await serve((seen, res) => {
      const gzip = seen.url === "/gzip";
      const whole = Buffer.from("data: first\n\n".repeat(2000));
      const bytes = gzip ? gzipSync(whole) : whole;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "content-length": String(bytes.length),
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      });
      res.write(bytes.subarray(0, bytes.length >> 1));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const streamed = async (response: Response) => {
      let bytes = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
      return bytes;
    };
    for (const path of ["/plain", "/gzip"]) {
      for (const read of [(r: Response) => r.text(), streamed]) {
        const url = `http://127.0.0.1:${server.port}${path}`;
        const ours = await read(await createHttpFetch()(url)).catch((error: unknown) => error);
        const theirs = await read(await fetch(url)).catch((error: unknown) => error);
        expect(theirs).toBeInstanceOf(TypeError);
        expect(ours, `${path} ${read.name}`).toBeInstanceOf(TypeError);
        expect((ours as Error).message).toBe((theirs as Error).message);
        expect((ours as Error).cause).toBeInstanceOf(Error);
      }
    }
  });

  it("rejects with TypeError('fetch failed') and the cause when nothing listens", async () => {
    const server = await serve(() => {});
    const port = server.port;
    await servers.pop()?.close();
    const failure = await createHttpFetch()(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as Error).message).toBe("fetch failed");
    expect(((failure as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("encodes a FormData upload byte for byte as fetch does, a file part read from disk", async () => {
    const server = await serve((_seen, res) => json(res, 200, { id: "file_1" }));
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-form-"));
    try {
      const path = join(dir, "batch.jsonl");
      writeFileSync(path, '{"custom_id":"a"}\n{"custom_id":"b"}\n'.repeat(5000));
      const form = () => {
        const data = new FormData();
        data.append("purpose", "batch\nline two\r\n");
        data.append('odd "name"\n', "x");
        return data;
      };
      const withFiles = async () => {
        const data = form();
        data.append(
          "file",
          new File([await openAsBlob(path)], 'in"put.jsonl', { type: "application/jsonl" }),
        );
        data.append("blob", new Blob(["raw bytes"]));
        return data;
      };
      const fallback = (() => {
        throw new Error("a FormData upload must not fall back to fetch");
      }) as typeof fetch;
      const ours = await createHttpFetch({ fallback })(`${server.url}/files`, {
        method: "POST",
        body: await withFiles(),
      });
      expect(await ours.json()).toEqual({ id: "file_1" });
      await fetch(`${server.url}/files`, { method: "POST", body: await withFiles() });

      const [mine, theirs] = server.seen;
      const boundaryOf = (seen: Seen) => /boundary=(.+)$/.exec(String(seen.headers["content-type"]))![1];
      const unbound = (seen: Seen) => seen.body.replaceAll(boundaryOf(seen), "BOUNDARY");
      expect(mine.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
      expect(unbound(mine)).toBe(unbound(theirs));
      expect(Number(mine.headers["content-length"])).toBe(Buffer.byteLength(mine.body));
      expect(mine.body).toContain('{"custom_id":"b"}\n{"custom_id":"a"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hands requests it does not cover (a Request, other schemes, manual redirects, credentials) to the fallback", async () => {
    const handed: string[] = [];
    const fallback = (async (input: string | URL | Request) => {
      handed.push(input instanceof Request ? `request ${input.url}` : String(input));
      return new Response("fallback");
    }) as typeof fetch;
    const httpFetch = createHttpFetch({ fallback });
    await httpFetch(new Request("http://127.0.0.1:1/req"));
    await httpFetch("data:text/plain,hi");
    await httpFetch("http://127.0.0.1:1/manual", { redirect: "manual" });
    await httpFetch("http://user:secret@127.0.0.1:1/creds");
    expect(handed).toEqual([
      "request http://127.0.0.1:1/req",
      "data:text/plain,hi",
      "http://127.0.0.1:1/manual",
      "http://user:secret@127.0.0.1:1/creds",
    ]);
  });

  it("goes through HTTP_PROXY from the env it is given, and straight to hosts in NO_PROXY", async () => {
    const target = await serve((_seen, res) => json(res, 200, { reached: true }));
    const tunnels: string[] = [];
    const proxyServer = createServer((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    // A CONNECT proxy: the way undici reaches any target through a proxy.
    proxyServer.on("connect", (req, client, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    const proxy = await listenOnLoopback(proxyServer);
    servers.push(proxy);
    const targetURL = `http://127.0.0.1:${target.port}/`;

    const proxied = createHttpFetch({ env: { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` } });
    expect(await (await proxied(targetURL)).json()).toEqual({ reached: true });
    expect(tunnels).toEqual([`127.0.0.1:${target.port}`]);

    const bypassed = createHttpFetch({
      env: { http_proxy: `http://127.0.0.1:${proxy.port}`, NO_PROXY: "127.0.0.1" },
    });
    expect(await (await bypassed(targetURL)).json()).toEqual({ reached: true });
    expect(tunnels).toHaveLength(1);

    // No proxy in the injected env: process.env is not consulted behind its back.
    const direct = createHttpFetch({ env: {} });
    expect(await (await direct(targetURL)).json()).toEqual({ reached: true });
    expect(tunnels).toHaveLength(1);
  });

  it("turns a proxy that is not a URL into a user error", () => {
    expect(() => createHttpFetch({ env: { HTTPS_PROXY: "http://[::1" } })).toThrow(
      expect.objectContaining({
        code: "provider-invalid",
        hint: expect.stringContaining("http://host:port"),
      }),
    );
  });

  it("carries the OpenAI SDK: a chat completion, a streamed one, and a retried 500", async () => {
    let failuresLeft = 1;
    const server = await serve((seen, res) => {
      const body = JSON.parse(seen.body) as { stream?: boolean };
      if (failuresLeft > 0) {
        failuresLeft--;
        json(res, 500, { error: { message: "try again" } });
        return;
      }
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const piece of ["Hel", "lo"]) {
          res.write(
            `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`,
          );
        }
        res.end("data: [DONE]\n\n");
        return;
      }
      json(res, 200, {
        id: "c",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
      });
    });
    const client = new OpenAI({
      apiKey: "sk-test",
      baseURL: server.url,
      fetch: createHttpFetch(),
      maxRetries: 1,
      // The SDK's backoff before its retry: keep the test quick.
      timeout: 5000,
    });
    const answer = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
    expect(answer.choices[0].message.content).toBe("Hi");
    expect(server.seen).toHaveLength(2);

    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Hello");
  });
});
