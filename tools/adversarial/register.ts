// A registration of a package's model with some fields of the record changed: what a griefer
// registers to lure agents that identify models by a part of their record.

import type { Clients } from "../../chain/clients.js";
import type { ModelPackage } from "../../dnn/src/package.js";
import { type Deployment, registerModel } from "../../game/deploy.js";

export function registerModelAs(
  c: Clients,
  d: Deployment,
  pkg: ModelPackage,
  change: { outputSlot?: number },
): Promise<bigint> {
  return registerModel(c, d, pkg, "", change);
}
