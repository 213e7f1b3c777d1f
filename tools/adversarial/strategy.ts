// What a strategy of the adversarial harness is: a set-up that returns the moves it plays, the
// processes it waits for and the invariants it checks afterwards.
import type { ChildProcess } from "node:child_process";
import type { Address } from "viem";
import type { World } from "./world.js";

export type Rand = () => number;

export interface Play {
  /** Adversary moves available now; called every turn of the runner's loop. Must not throw. */
  tick(): Promise<void>;
  /** Honest processes of this game that must exit before it counts as over. */
  waitFor: ChildProcess[];
  /** Strategy-specific end condition beyond "every claim and game of this game ended". */
  done?(): Promise<boolean>;
  /** Strategy-specific invariants, checked after the game (violations as one-line strings). */
  check?(ledger: Ledger): Promise<string[]>;
  /** Stops processes the strategy started. */
  close?(): void;
  /** Accounts the adversary used (for the ledger). */
  accounts: Address[];
}

export interface Ledger {
  /** Net wei an account got out of the game contract in this game: credit gained + withdrawn − bonds posted. */
  net(a: Address): bigint;
  /** Request rewards paid to an account in this game. */
  rewards(a: Address): bigint;
}

export interface Strategy {
  name: string;
  group: "lying-claimant" | "lying-challenger" | "poison" | "requests";
  setup(w: World, rand: Rand): Promise<Play>;
}
