/**
 * A `fetch` for the OpenAI SDK built on undici's dispatcher API (`Agent.request`), with pooled
 * keep-alive connections per origin.
 *
 * Why not the global fetch: on Node 20 the WHATWG fetch costs about 0.4 ms of CPU per request (spec
 * steps, web streams, a Response per answer); the SDK over this transport spends about a third of
 * what it spends over fetch (bench/RESULTS.md). At thousands of small calls a second against a local
 * server that CPU is the bottleneck. The SDK still owns retries, timeouts and errors (house rule 7):
 * this only moves bytes, so both of undici's own timeouts are off.
 *
 * It covers what the SDK sends for completions (string or byte bodies, any method) and for batch
 * uploads (FormData), and answers with a real `Headers` and a body the SDK reads through `json()`,
 * `text()` or async iteration (streaming). A FormData body is streamed with backpressure: Node 20's
 * fetch read a 200 MB file part into memory ahead of the socket. Anything else (a Request object,
 * stream bodies, non-HTTP URLs or URLs with credentials, a redirect mode other than "follow") goes to
 * the global fetch unchanged, which also means the same errors as before for what fetch refuses.
 * Like fetch it follows redirects, asks for and decodes gzip, deflate and brotli, rejects with an
 * `AbortError` on abort and with `TypeError("fetch failed")` on a network error, and a body cut off
 * part-way fails with `TypeError("terminated")`, read whole or as a stream.
 * Unlike Node's fetch it honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY, as curl and the Python SDK do.
 */

import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Readable, type Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Agent, Dispatcher, EnvHttpProxyAgent } from "undici";
import { UserError } from "../errors.js";

// undici's entry point also loads fetch, WebSocket, caches and mocks: about 75 ms at every start
// of eval or run. The direct path needs only an Agent and the request method, about 30 ms. The
// version is pinned (~7.30 in package.json) and test/integration/http-fetch.test.ts covers both paths.
const load = createRequire(import.meta.url);
const AgentClass: typeof Agent = load("undici/lib/dispatcher/agent.js");
const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData> =
  load("undici/lib/api/api-request.js");

const MAX_REDIRECTS = 20;

/** Options for {@link createHttpFetch}. */
export interface HttpFetchOptions {
  /** Where requests this transport does not handle go; default the global fetch. */
  fallback?: typeof fetch;
  /** Environment to read HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case forms) from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A fetch-compatible function over pooled keep-alive connections; see the file comment for its scope. */
export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  const fallback = options.fallback ?? ((input, init) => globalThis.fetch(input, init));
  // No connection cap (the runner's pool bounds concurrency); timeouts belong to the SDK.
  const timeouts = { headersTimeout: 0, bodyTimeout: 0 };
  const proxy = proxyFrom(options.env ?? process.env);
  const agent: Dispatcher = proxy ? proxyAgent(proxy, timeouts) : new AgentClass(timeouts);

  const httpFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === "string" ? safeURL(input) : input instanceof URL ? input : undefined;
    const body = init.body ?? undefined;
    if (
      url === undefined ||
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.username !== "" ||
      url.password !== "" ||
      !(
        body === undefined ||
        typeof body === "string" ||
        body instanceof Uint8Array ||
        body instanceof FormData
      ) ||
      (init.redirect !== undefined && init.redirect !== "follow")
    ) {
      return fallback(input, init);
    }
    const headers = plainHeaders(init.headers);
    headers["accept-encoding"] ??= "gzip, deflate, br";
    return send(url, (init.method ?? "GET").toUpperCase(), headers, body, init.signal ?? undefined, 0);
  };

  async function send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | FormData | undefined,
    signal: AbortSignal | undefined,
    redirects: number,
  ): Promise<Response> {
    let answer: Dispatcher.ResponseData;
    try {
      // Encoded afresh for each send, so a redirect (and the SDK's retry, a new call) reads the parts again.
      const multipart = body instanceof FormData ? encodeMultipart(body) : undefined;
      answer = await request.call(agent, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: method as "GET",
        headers: multipart ? { ...headers, ...multipart.headers } : headers,
        body: multipart ? multipart.body : (body as string | Uint8Array | undefined),
        signal,
        responseHeaders: "raw",
      });
    } catch (error) {
      throw isAbort(error) ? error : new TypeError("fetch failed", { cause: error });
    }
    const status = answer.statusCode;
    const rawHeaders = answer.headers as unknown as string[];
    const location = REDIRECTS.has(status) ? headerOf(rawHeaders, "location") : undefined;
    if (location !== undefined && redirects < MAX_REDIRECTS) {
      answer.body.resume();
      // As fetch does: 303 (and 301/302 after a POST) turn into a GET without a body.
      const toGet = status === 303 || ((status === 301 || status === 302) && method === "POST");
      const next = new URL(location, url);
      const nextHeaders = { ...headers };
      if (toGet) delete nextHeaders["content-type"];
      if (next.origin !== url.origin) delete nextHeaders.authorization;
      return send(next, toGet ? "GET" : method, nextHeaders, toGet ? undefined : body, signal, redirects + 1);
    }
    return createResponse(status, rawHeaders, answer.body, url, method);
  }

  return httpFetch as typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A FormData as multipart/form-data bytes, the way fetch encodes it (WHATWG: names and file names
 * with CR, LF and `"` percent-escaped, line breaks in values as CRLF), read from its Blobs as the
 * socket takes them. Its length is known up front, so the upload has a Content-Length.
 */
function encodeMultipart(form: FormData): { headers: Record<string, string>; body: Readable } {
  const boundary = `----formdata-promptsmith-${randomBytes(12).toString("hex")}`;
  const crlf = (text: string) => text.replace(/\r?\n|\r/g, "\r\n");
  const quoted = (text: string) => text.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
  const parts: Array<Buffer | Blob> = [];
  for (const [name, value] of form) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(crlf(name))}"`;
    if (typeof value === "string") {
      parts.push(Buffer.from(`${head}\r\n\r\n${crlf(value)}\r\n`));
    } else {
      const type = value.type || "application/octet-stream";
      parts.push(Buffer.from(`${head}; filename="${quoted(value.name)}"\r\nContent-Type: ${type}\r\n\r\n`));
      parts.push(value, Buffer.from("\r\n"));
    }
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const length = parts.reduce((sum, part) => sum + (part instanceof Blob ? part.size : part.length), 0);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      if (part instanceof Blob) yield* part.stream();
      else yield part;
    }
  }
  return {
    headers: {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(length),
    },
    body: Readable.from(chunks(), { objectMode: false }),
  };
}

function safeURL(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Request headers as a lower-cased record, from any HeadersInit. */
function plainHeaders(init: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  if (init instanceof Headers) {
    init.forEach((value, name) => {
      out[name] = value;
    });
  } else if (Array.isArray(init)) {
    for (const [name, value] of init) out[name.toLowerCase()] = value;
  } else {
    for (const [name, value] of Object.entries(init)) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/** The proxies the environment names, or undefined when it names none (then no per-request NO_PROXY check). */
function proxyFrom(env: NodeJS.ProcessEnv) {
  const pick = (name: string) => env[name.toLowerCase()] || env[name] || "";
  const httpProxy = pick("HTTP_PROXY");
  const httpsProxy = pick("HTTPS_PROXY");
  if (httpProxy === "" && httpsProxy === "") return undefined;
  // Empty strings, not undefined: undici would otherwise read process.env behind the injected env.
  return { httpProxy, httpsProxy: httpsProxy || httpProxy, noProxy: pick("NO_PROXY") };
}

function proxyAgent(proxy: NonNullable<ReturnType<typeof proxyFrom>>, timeouts: object): EnvHttpProxyAgent {
  // The whole package here: the proxy agent calls dispatcher methods that its entry point installs.
  const ProxyAgentClass: typeof EnvHttpProxyAgent = load("undici").EnvHttpProxyAgent;
  try {
    return new ProxyAgentClass({ ...timeouts, ...proxy });
  } catch (error) {
    throw new UserError({
      code: "provider-invalid",
      message: `the proxy in HTTP_PROXY / HTTPS_PROXY is not a URL (${(error as Error).message})`,
      hint: "write it as http://host:port, or unset the variable",
    });
  }
}

function headerOf(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** The decoder for a content-encoding fetch would decode, if any. */
function decoderFor(encoding: string | null): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/** undici's body: a Readable that also reads itself whole, faster than collecting its chunks. */
type UndiciBody = Readable & {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
};

/** The part of `Response` the SDK and promptsmith read; the body is read at most once, as with fetch. */
function createResponse(
  status: number,
  raw: string[],
  answer: UndiciBody,
  url: URL,
  method: string,
): Response {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const empty = method === "HEAD" || status === 204 || status === 304;
  if (empty) answer.resume();
  const decoder = empty ? undefined : decoderFor(headers.get("content-encoding"));
  if (decoder) {
    answer.on("error", (error) => decoder.destroy(error));
    answer.pipe(decoder);
  }
  const body: Readable = decoder ?? answer;
  let used = false;
  let streamed = false;

  const read = async <T>(
    whole: (body: UndiciBody) => Promise<T>,
    decoded: (bytes: Buffer) => T,
  ): Promise<T> => {
    if (used) throw new TypeError("Body is unusable: Body has already been read");
    used = true;
    try {
      if (empty) return decoded(Buffer.alloc(0));
      if (!decoder) return await whole(answer);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return decoded(Buffer.concat(chunks));
    } catch (error) {
      throw error instanceof SyntaxError ? error : bodyError(error);
    }
  };
  const text = () =>
    read(
      (b) => b.text(),
      (bytes) => bytes.toString("utf8"),
    );
  const arrayBuffer = () =>
    read(
      (b) => b.arrayBuffer(),
      (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );

  const result = {
    status,
    statusText: "",
    ok: status >= 200 && status < 300,
    redirected: false,
    type: "basic",
    url: url.href,
    headers,
    get bodyUsed() {
      return used;
    },
    // Made to fail as fetch's does only when read as a stream: most answers are read whole.
    get body() {
      if (empty) return null;
      if (!streamed) {
        streamed = true;
        streamErrorsAsFetch(body);
      }
      return body;
    },
    text,
    json: () =>
      read(
        (b) => b.json(),
        (bytes) => JSON.parse(bytes.toString("utf8")) as unknown,
      ),
    arrayBuffer,
    blob: async () => new Blob([await arrayBuffer()], { type: headers.get("content-type") ?? "" }),
    clone: () => {
      throw new TypeError("promptsmith's http transport does not clone responses");
    },
  };
  return result as unknown as Response;
}

/** What fetch's body rejects with when the answer breaks off: an AbortError, or `TypeError("terminated")` with the cause. */
function bodyError(error: unknown): unknown {
  const mapped = isAbort(error) || (error instanceof TypeError && error.message === "terminated");
  return mapped ? error : new TypeError("terminated", { cause: error });
}

/**
 * A body read as a stream (an SSE answer, a batch result file) fails as fetch's does, so callers
 * that know fetch's errors know these: undici's own `SocketError: other side closed` reached the
 * user as an internal error when a server went away mid-download.
 */
function streamErrorsAsFetch(body: Readable): void {
  const iterate = body[Symbol.asyncIterator].bind(body);
  body[Symbol.asyncIterator] = () => {
    const inner = iterate();
    const iterator: AsyncIterableIterator<unknown> = {
      next: () =>
        inner.next().catch((error: unknown) => {
          throw bodyError(error);
        }),
      return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true, value }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  };
}

const shared = new WeakMap<NodeJS.ProcessEnv, typeof fetch>();

/** One transport per environment (in practice one per process), so providers share open sockets. */
export function sharedHttpFetch(env: NodeJS.ProcessEnv = process.env): typeof fetch {
  let transport = shared.get(env);
  if (transport === undefined) {
    transport = createHttpFetch({ env });
    shared.set(env, transport);
  }
  return transport;
}
