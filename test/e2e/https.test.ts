import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, ROOT, runCli } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/openai-test-server.js";

// The path most users take (api.openai.com is HTTPS) through promptsmith's own transport: TLS with
// the system's trust store plus NODE_EXTRA_CA_CERTS, as Node's fetch would use.
const TLS_DIR = join(ROOT, "test", "fixtures", "tls");
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    respond: () => "The answer is 4.",
    tls: {
      key: readFileSync(join(TLS_DIR, "key.pem"), "utf8"),
      cert: readFileSync(join(TLS_DIR, "cert.pem"), "utf8"),
    },
  });
});
afterAll(async () => {
  await server.close();
});

describe("eval over HTTPS", () => {
  it("talks to an HTTPS endpoint whose certificate the environment trusts", async () => {
    expect(server.url.startsWith("https://")).toBe(true);
    const run = await runCli(["eval", copyFixture("arithmetic"), "--no-cache", "--json"], {
      env: { OPENAI_BASE_URL: server.url, NODE_EXTRA_CA_CERTS: join(TLS_DIR, "cert.pem") },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { summary: { total: number; errors: number }[] };
    expect(report.summary.map((s) => [s.total, s.errors])).toEqual([
      [5, 0],
      [5, 0],
    ]);
    expect(server.completionRequests()).toHaveLength(10);
  });

  it("refuses a certificate nobody vouches for, and says so (exit 2)", async () => {
    const before = server.completionRequests().length;
    const run = await runCli(["eval", copyFixture("arithmetic"), "--no-cache"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`127.0.0.1:${server.port}`);
    expect(run.stderr).toMatch(/TLS certificate this machine does not trust/);
    expect(run.stderr).toContain(
      "hint: if the endpoint uses a private or self-signed CA, export NODE_EXTRA_CA_CERTS",
    );
    expect(server.completionRequests()).toHaveLength(before);
  });
});
