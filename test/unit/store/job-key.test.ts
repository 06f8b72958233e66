import { describe, expect, it } from "vitest";
import {
  type CacheKeyParts,
  cacheKey,
  canonicalJson,
  cassetteKey,
  jobId,
  parseJobId,
} from "../../../src/store/job-key.js";

const base: CacheKeyParts = {
  providerId: "openai:gpt-4o-mini",
  baseURL: "http://127.0.0.1:8080/v1",
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "2+2?" },
  ],
  params: { temperature: 0, max_tokens: 16, response_format: { type: "json_object", strict: true } },
  sampleIndex: 0,
};

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"x":2,"z":1}]},"b":1}',
    );
  });

  it("keeps array positions, writing undefined items as null like JSON does", () => {
    expect(canonicalJson([1, undefined, "x"])).toBe('[1,null,"x"]');
  });
});

describe("cacheKey", () => {
  it("is a sha256 hex digest", () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not depend on the order of keys in params", () => {
    const reordered: CacheKeyParts = {
      ...base,
      params: { response_format: { strict: true, type: "json_object" }, max_tokens: 16, temperature: 0 },
    };
    expect(cacheKey(reordered)).toBe(cacheKey(base));
  });

  it("treats an undefined param, a trailing slash on baseURL and completions:false as absent", () => {
    const same: CacheKeyParts = {
      ...base,
      baseURL: "http://127.0.0.1:8080/v1/",
      params: { ...base.params, seed: undefined },
      completions: false,
    };
    expect(cacheKey(same)).toBe(cacheKey(base));
  });

  it("changes with anything that changes the answer", () => {
    const key = cacheKey(base);
    const variants: CacheKeyParts[] = [
      { ...base, providerId: "openai:gpt-4o" },
      { ...base, baseURL: "http://127.0.0.1:9090/v1" },
      { ...base, model: "gpt-4o" },
      { ...base, messages: [...base.messages.slice(0, 1), { role: "user", content: "2+3?" }] },
      { ...base, messages: [{ role: "user", content: "Be brief." }, base.messages[1]] },
      { ...base, params: { ...base.params, temperature: 0.7 } },
      { ...base, sampleIndex: 1 },
      { ...base, completions: true },
    ];
    const keys = variants.map(cacheKey);
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
  });

  it("ignores extra fields a message object may carry", () => {
    const withExtra = {
      ...base,
      messages: base.messages.map((message) => ({ ...message, name: "ignored" })),
    } as CacheKeyParts;
    expect(cacheKey(withExtra)).toBe(cacheKey(base));
  });
});

describe("jobId", () => {
  it("is readable", () => {
    expect(jobId({ promptId: "cot", providerLabel: "openai:gpt-4o-mini", caseId: "17" })).toBe(
      "cot|openai:gpt-4o-mini|17",
    );
    expect(jobId({ promptId: "cot", providerLabel: "openai:gpt-4o-mini", caseId: "17", sample: 2 })).toBe(
      "cot|openai:gpt-4o-mini|17#s2",
    );
  });

  it("escapes separators so different parts never collide", () => {
    const a = jobId({ promptId: "a|b", providerLabel: "p", caseId: "c" });
    const b = jobId({ promptId: "a", providerLabel: "b|p", caseId: "c" });
    const c = jobId({ promptId: "a", providerLabel: "b", caseId: "p|c" });
    const withSampleLikeId = jobId({ promptId: "x", providerLabel: "p", caseId: "17#s2" });
    const sampled = jobId({ promptId: "x", providerLabel: "p", caseId: "17", sample: 2 });
    expect(new Set([a, b, c]).size).toBe(3);
    expect(withSampleLikeId).not.toBe(sampled);
    expect(a).toBe("a%7Cb|p|c");
  });

  it("round-trips through parseJobId, including escapes and %", () => {
    const cases = [
      { promptId: "cot", providerLabel: "openai:gpt-4o-mini", caseId: "17" },
      { promptId: "a|b#c%7C", providerLabel: "lab|el", caseId: "#s3", sample: 0 },
      { promptId: "", providerLabel: "p", caseId: "c", sample: 12 },
    ];
    for (const parts of cases) expect(parseJobId(jobId(parts))).toEqual(parts);
  });

  it("rejects a sample index that is not a non-negative integer, and text that is not an id", () => {
    expect(() => jobId({ promptId: "a", providerLabel: "b", caseId: "c", sample: -1 })).toThrow(RangeError);
    expect(() => jobId({ promptId: "a", providerLabel: "b", caseId: "c", sample: 1.5 })).toThrow(RangeError);
    expect(parseJobId("only|two")).toBeUndefined();
    expect(parseJobId("a|b|c|d")).toBeUndefined();
  });
});

describe("the keys' stability", () => {
  it("gives the keys existing caches and cassettes were written with", () => {
    // Hashes computed by the code that wrote this session's caches and cassettes (before the two
    // keys shared requestHash): a change here empties every user's cache and breaks every cassette.
    const messages = [{ role: "user" as const, content: "What is 2 + 2?" }];
    const request = { model: "gpt-4o-mini", messages, params: { temperature: 0 }, sampleIndex: 1 };
    expect(cacheKey({ providerId: "openai:gpt-4o-mini", baseURL: "http://h/v1/", ...request })).toBe(
      "1be08f1aefbd9844a7acd7a560f0d777f9fa356157648f7a2016ade1605f883a",
    );
    expect(cassetteKey({ provider: "p", ...request })).toBe(
      "35278701921ab28d9b2a2b6e41a7edf2ee7697d20f11c6291ceaa1ab1b2d5a3a",
    );
  });
});
