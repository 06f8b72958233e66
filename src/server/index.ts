/** The OpenAI-compatible server: `startServer` over any Provider, `serve` over a local model. */
export { DEFAULT_SERVE_PORT, type ServeOptions, serve } from "./serve.js";
export { type ServerHandle, type ServerOptions, startServer } from "./server.js";
