import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../../helpers/prometheus.js";

// The checker the /metrics tests lean on: it must refuse what the exposition format does not allow,
// or those tests could not fail. Cases written from prometheus.io's "Text format details".
describe("the exposition-format checker of the tests", () => {
  const histogram = [
    "# HELP t_seconds A histogram.",
    "# TYPE t_seconds histogram",
    't_seconds_bucket{le="0.5"} 1',
    't_seconds_bucket{le="+Inf"} 2',
    "t_seconds_sum 1.25",
    "t_seconds_count 2",
  ];

  it("reads the specification's own example lines", () => {
    const families = parseExposition(
      [
        "# HELP http_requests_total The total number of HTTP requests.",
        "# TYPE http_requests_total counter",
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3 1395066363000',
        "",
        "# A normal comment.",
        'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
        "# TYPE g gauge",
        "g -Inf",
        ...histogram,
        "",
      ].join("\n"),
    );
    expect(sampleValue(families, "http_requests_total", { code: "400" })).toBe(3);
    expect(families.get("msdos_file_access_time_seconds")?.samples[0].labels).toEqual({
      path: "C:\\DIR\\FILE.TXT",
      error: 'Cannot find file:\n"FILE.TXT"',
    });
    expect(sampleValue(families, "g")).toBe(Number.NEGATIVE_INFINITY);
    expect(sampleValue(families, "t_seconds_count")).toBe(2);
  });

  it.each([
    ["no final line feed", "a 1"],
    ["a bad metric name", "1a 1\n"],
    ["an unquoted label value", "a{b=c} 1\n"],
    ["a bad value", "a one\n"],
    ["a TYPE after samples", "a 1\n# TYPE a counter\n"],
    ["an unknown type", "# TYPE a meter\n"],
    ["a negative counter", "# TYPE a counter\na -1\n"],
    ["interleaved families", "a 1\nb 1\na 2\n"],
    ["a histogram without +Inf", `${histogram.filter((line) => !line.includes("+Inf")).join("\n")}\n`],
    ["a histogram whose count differs", `${histogram.join("\n").replace("_count 2", "_count 3")}\n`],
    ["non-cumulative buckets", `${histogram.join("\n").replace('le="0.5"} 1', 'le="0.5"} 5')}\n`],
  ])("refuses %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
