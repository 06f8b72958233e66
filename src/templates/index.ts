/** The prompt template engine: Handlebars templates → chat messages. */
export {
  type CompileOptions,
  createPromptEngine,
  type PromptEngine,
  type PromptEngineOptions,
  type PromptTemplate,
  type RenderOptions,
} from "./engine.js";
export { HELPERS, type HelperSpec } from "./helpers.js";
export { isRole, ROLES, type Role, renderPromptText, trimBlankLines } from "./messages.js";
