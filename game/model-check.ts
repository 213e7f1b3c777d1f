// Model identity is the whole registry record (issue 8, finding 6): an agent acts on a model id
// only if what the registry stores for it, and for its program, is exactly what the package (and
// the DNN program's constants) imply, and the package itself is a valid graph. Two registrations
// of the same weights with another output slot, node list or program are different models.
import { type Clients, events, isTransient, oneLine, withRetry } from "../chain/clients.js";
import type { ModelPackage } from "../dnn/src/package.js";
import type { Deployment } from "./deploy.js";
import { dnnVmProgram } from "./link.js";
import { GraphError, modelRecord, programInfo, validateGraph } from "./registry.js";

export type ModelCheck = { ok: true } | { ok: false; reason: string };

let program: ReturnType<typeof programInfo> | undefined;
function dnnProgram() {
  program ??= programInfo(dnnVmProgram());
  return program;
}

const norm = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(norm).join(",")}]` : typeof v === "string" ? v.toLowerCase() : String(v);

/** The registry's record of `modelId` (model and program) as plain values. */
export async function registryRecord(c: Clients, d: Deployment, modelId: bigint) {
  const model = await withRetry(
    () =>
      c.publicClient.readContract({
        address: d.registry,
        abi: d.abis.registry,
        functionName: "model",
        args: [modelId],
      }),
    `registry.model(${modelId})`,
  );
  const program = await withRetry(
    () =>
      c.publicClient.readContract({
        address: d.registry,
        abi: d.abis.registry,
        functionName: "program",
        args: [model.programId],
      }),
    `registry.program(${model.programId})`,
  );
  return { model, program };
}

/** What the registry must hold for `pkg`: field name → expected value. */
export function expectedRecord(pkg: ModelPackage): {
  model: Record<string, unknown>;
  program: Record<string, unknown>;
} {
  const m = modelRecord(pkg.manifest);
  const p = dnnProgram();
  return {
    model: {
      modelRoot: m.modelRoot,
      nodesRoot: m.nodesRoot,
      nNodes: m.nNodes,
      tableDepth: m.tableDepth,
      weightsDepth: m.weightsDepth,
      inputBytes: m.inputBytes,
      outputSlot: m.outputSlot,
      maxSteps: m.maxSteps,
    },
    program: { codeRoot: p.codeRoot, codeDepth: p.codeDepth, entryPc: p.entryPc, globalsRoot: p.globalsRoot },
  };
}

/**
 * Compares the registry's record of `modelId` with the package; the reason names the id and the
 * first field that differs (one line). A registry read error other than a transient one (e.g.
 * UnknownModel) is a mismatch too.
 */
export async function checkModelRecord(
  c: Clients,
  d: Deployment,
  modelId: bigint,
  pkg: ModelPackage,
): Promise<ModelCheck> {
  // The package itself must be a graph the registry would accept (findings 6 and 14).
  try {
    validateGraph(pkg.manifest);
  } catch (e) {
    if (e instanceof GraphError)
      return { ok: false, reason: `model ${modelId}: the package is not a valid graph: ${e.message}` };
    throw e;
  }
  // Compared field by field, by the names expectedRecord lists.
  let rec: { model: Record<string, unknown>; program: Record<string, unknown> };
  try {
    rec = await registryRecord(c, d, modelId);
  } catch (e) {
    if (isTransient(e)) throw e;
    return { ok: false, reason: `model ${modelId}: not readable from the registry (${oneLine(e)})` };
  }
  const want = expectedRecord(pkg);
  for (const [k, v] of Object.entries(want.model))
    if (norm(rec.model[k]) !== norm(v))
      return {
        ok: false,
        reason: `model ${modelId}: registry ${k} ${norm(rec.model[k])} ≠ package ${norm(v)}`,
      };
  for (const [k, v] of Object.entries(want.program))
    if (norm(rec.program[k]) !== norm(v))
      return {
        ok: false,
        reason: `model ${modelId}: program ${String(rec.model.programId)} ${k} ${norm(rec.program[k])} ≠ DNN program ${norm(v)}`,
      };
  return { ok: true };
}

/** Ids of registered models whose modelRoot is the package's (candidates for checkModelRecord). */
export async function candidateIds(c: Clients, d: Deployment, pkg: ModelPackage): Promise<bigint[]> {
  const logs = await events(c, d.registry, d.abis.registry, "ModelRegistered", undefined, d.block);
  return logs
    .filter((l) => l.args.modelRoot.toLowerCase() === pkg.manifest.modelRoot.toLowerCase())
    .map((l) => l.args.modelId);
}
