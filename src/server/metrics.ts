/**
 * The server's Prometheus metrics (GET /metrics), kept by prom-client in a registry of the server's
 * own, so two servers in one process never mix their counts. The only importer of prom-client; the
 * server loads this module when it starts, so no other command pays for it.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { TokenUsage } from "../providers/types.js";

/** What the gauges read at each scrape. */
export interface MetricsState {
  running(): number;
  waiting(): number;
  loaded(): boolean;
}

/** The server's counters, gauges and histograms, and their text. */
export interface ServerMetrics {
  /** One answered request; `status` 499 means the client went away before the answer. */
  request(route: string, status: number): void;
  tokens(usage: TokenUsage): void;
  /** From the request's arrival to its first generated text. */
  firstToken(seconds: number): void;
  /** From leaving the queue to the last token. */
  generation(seconds: number): void;
  /** Time spent waiting for a sequence. */
  queueWait(seconds: number): void;
  /** A generation cut off by the server's timeout. */
  timedOut(): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; text: string }>;
}

// Seconds. Small models on a GPU answer their first token in milliseconds; a loaded CPU queue, in minutes.
const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** A fresh registry with the server's metrics. */
export function createServerMetrics(state: MetricsState): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: "promptsmith_requests_total",
    help: "HTTP requests answered, by route and status code (499: the client went away first)",
    labelNames: ["route", "status"] as const,
    registers,
  });
  const promptTokens = new Counter({
    name: "promptsmith_prompt_tokens_total",
    help: "Prompt tokens of the generation requests answered",
    registers,
  });
  const completionTokens = new Counter({
    name: "promptsmith_completion_tokens_total",
    help: "Tokens generated for the requests answered",
    registers,
  });
  const timeouts = new Counter({
    name: "promptsmith_timeouts_total",
    help: "Generations cut off by the server's timeout",
    registers,
  });
  new Gauge({
    name: "promptsmith_requests_running",
    help: "Requests generating now",
    registers,
    collect() {
      this.set(state.running());
    },
  });
  new Gauge({
    name: "promptsmith_queue_depth",
    help: "Requests admitted and waiting for a sequence",
    registers,
    collect() {
      this.set(state.waiting());
    },
  });
  new Gauge({
    name: "promptsmith_model_loaded",
    help: "1 once the model is loaded and requests are served, else 0",
    registers,
    collect() {
      this.set(state.loaded() ? 1 : 0);
    },
  });
  const firstToken = new Histogram({
    name: "promptsmith_time_to_first_token_seconds",
    help: "Seconds from a generation request's arrival to its first generated text",
    buckets: FIRST_TOKEN_BUCKETS,
    registers,
  });
  const generation = new Histogram({
    name: "promptsmith_generation_duration_seconds",
    help: "Seconds a generation request generated, from leaving the queue to its last token",
    buckets: DURATION_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: "promptsmith_queue_wait_seconds",
    help: "Seconds a generation request waited for a sequence",
    buckets: DURATION_BUCKETS,
    registers,
  });

  return {
    request: (route, status) => requests.inc({ route, status: String(status) }),
    tokens(usage) {
      promptTokens.inc(usage.prompt);
      completionTokens.inc(usage.completion);
    },
    firstToken: (seconds) => firstToken.observe(seconds),
    generation: (seconds) => generation.observe(seconds),
    queueWait: (seconds) => queueWait.observe(seconds),
    timedOut: () => timeouts.inc(),
    async render() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}
