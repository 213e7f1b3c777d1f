// A claim's inputs, from where the protocol makes them public (issue 8, finding 4): the game's
// InputsPublished events, looked up by the claim's graphState0. Every claim's graphState0 must have
// been published (postClaim reverts InputsNotPublished otherwise), so the watchtower never needs
// the posting transaction's calldata. The bytes are only a candidate: the caller recomputes
// graphState0 from them (ClaimTrace.graphState(0)) before trusting them.
import type { Hex } from "viem";
import { type Clients, events } from "../chain/clients.js";
import type { Deployment } from "./deploy.js";

/** int32 little-endian tensor bytes → Int32Array (throws on a length that is not a multiple of 4). */
export function tensorFromBytes(h: Hex): Int32Array {
  const b = Buffer.from(h.slice(2), "hex");
  if (b.length % 4 !== 0)
    throw new RangeError(`input of ${b.length} bytes is not a whole number of int32 words`);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Every distinct input list published for `graphState0` (and the model, if given), oldest first. */
export async function publishedInputs(
  c: Clients,
  d: Deployment,
  graphState0: Hex,
  modelId?: bigint,
): Promise<Hex[][]> {
  const logs = await events(
    c,
    d.game,
    d.abis.game,
    "InputsPublished",
    modelId === undefined ? { graphState0 } : { graphState0, modelId },
    d.block,
  );
  const seen = new Set<string>();
  const out: Hex[][] = [];
  for (const l of logs) {
    const k = l.args.inputs.join(",");
    if (seen.has(k)) continue;
    seen.add(k);
    out.push([...l.args.inputs]);
  }
  return out;
}
