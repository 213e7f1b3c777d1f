// A registration of a package's model with some fields of the record changed: what a griefer
// registers to lure agents that identify models by a part of their record.
import type { ModelPackage } from "../../dnn/src/package.js";
import { modelInfo, programInfo } from "../../vm/onchain.js";
import { dnnVmProgram } from "../../vm/phase.js";
import { type Clients, send } from "../chain/clients.js";
import type { Deployment } from "../chain/deploy.js";

export async function registerModelAs(
  c: Clients,
  d: Deployment,
  pkg: ModelPackage,
  change: { outputSlot?: number },
): Promise<bigint> {
  const p = programInfo(dnnVmProgram());
  await send(c, d.registry, d.abis.registry, "registerProgram", [
    p.codeRoot,
    BigInt(p.codeDepth),
    BigInt(p.entryPc),
    p.globalsRoot,
  ]);
  const programId = (await c.publicClient.readContract({
    address: d.registry,
    abi: d.abis.registry,
    functionName: "programCount",
  })) as bigint;
  const m = modelInfo(pkg.manifest);
  await send(c, d.registry, d.abis.registry, "registerModel", [
    programId,
    m.modelRoot,
    m.nodesRoot,
    BigInt(m.nNodes),
    BigInt(m.tableDepth),
    BigInt(m.weightsDepth),
    BigInt(m.inputSlots.length),
    BigInt(change.outputSlot ?? m.outputSlot),
    "0x0000000000000000000000000000000000000000000000000000000000000000",
    "",
  ]);
  return (await c.publicClient.readContract({
    address: d.registry,
    abi: d.abis.registry,
    functionName: "modelCount",
  })) as bigint;
}
