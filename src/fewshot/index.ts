/** The few-shot room's public surface: pools, selection, budgets, retrieval, the contamination guard, seeded randomness. */

export { createRng, hashSeed, type Rng } from "../rng.js";
export {
  type Bm25Doc,
  type Bm25Hit,
  type Bm25Index,
  type Bm25Options,
  bm25Idf,
  bm25Score,
  createBm25Index,
  tokenize,
} from "./bm25.js";
export {
  type BudgetOptions,
  type BudgetResult,
  createTokenCounter,
  type DropOrder,
  encodingForModel,
  fitShotsToBudget,
  isOpenAIModelName,
  type TokenEncoding,
} from "./budget.js";
export { builtinPools, isBuiltinPoolRef, loadBuiltinPool } from "./builtin/index.js";
export {
  type Chunk,
  type CorpusFile,
  chunkDocuments,
  createPassageRetriever,
  loadCorpus,
  type Passage,
  type PassageRetriever,
} from "./context.js";
export {
  cosineSimilarity,
  createEmbeddingSelector,
  type EmbeddingQuery,
  type EmbeddingSelector,
  type EmbeddingSelectorOptions,
  poolTexts,
  queryText,
} from "./embedding.js";
export {
  type CompareFields,
  type ContainmentIndex,
  type CopyIndex,
  type CopyKind,
  type CopyMatch,
  comparedText,
  createContainmentIndex,
  createCopyIndex,
  createPassageGuard,
  createShotGuard,
  type LeakPolicy,
  matchWords,
  NEAR_COPY_CONTAINMENT,
  NEAR_COPY_JACCARD,
  normalizeForMatch,
  type PassageCopy,
  type PassageGuard,
  passageCopy,
  SHINGLE_WORDS,
  type ShotGuard,
  type ShotGuardOptions,
  type ShotLeak,
} from "./leaks.js";
export {
  arrangeShots,
  createShotSelector,
  SHOT_ORDERS,
  SHOT_STRATEGIES,
  type ShotOrder,
  type ShotQuery,
  type ShotSelector,
  type ShotSelectorOptions,
  type ShotStrategy,
} from "./select.js";
export { type SelectedShot, type ShotRow, toShotRows } from "./types.js";
