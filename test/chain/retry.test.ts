// Finding 11 of issue 8: only transient RPC failures are retried, classified by viem's error
// classes, HTTP status and JSON-RPC code; a revert or an invalid argument fails at once. The old
// regex over the whole message matched the function name `timeout` and `429` inside hex calldata.
import {
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  HttpRequestError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTransient, RETRY_DELAY_MS, revertName, rpcLog, withRetry } from "../../chain/clients.js";
import { artifact } from "../../game/artifacts.js";

const abi = artifact("DisputeGame.sol", "DisputeGame").abi;
const url = "http://127.0.0.1:8545";
const game = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;

/** What viem throws when `timeout(gameId)` reverts with ClockNotExpired. */
function timeoutRevert() {
  const data = encodeErrorResult({ abi, errorName: "ClockNotExpired" });
  const cause = new ContractFunctionRevertedError({ abi, data, functionName: "timeout" });
  return new ContractFunctionExecutionError(cause, {
    abi,
    functionName: "timeout",
    args: [7n],
    contractAddress: game,
  });
}

/** A revert whose message carries calldata with "429" and "503" in its hex. */
function hexRevert() {
  const cause = new ContractFunctionRevertedError({ abi, functionName: "proveStep", message: "BadProof()" });
  return new ContractFunctionExecutionError(cause, {
    abi,
    functionName: "proveStep",
    args: [4291n, "0x4290503a429e5030"],
    contractAddress: game,
  });
}

describe("isTransient", () => {
  it("retries connection failures, 429, 5xx, timeouts, closed sockets and rate-limit codes", () => {
    expect(isTransient(new HttpRequestError({ url, status: 429 }))).toBe(true);
    expect(isTransient(new HttpRequestError({ url, status: 502 }))).toBe(true);
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(
      isTransient(new HttpRequestError({ url, cause: new TypeError("fetch failed", { cause: refused }) })),
    ).toBe(true);
    expect(isTransient(new TimeoutError({ body: {}, url }))).toBe(true);
    expect(isTransient(new SocketClosedError({ url }))).toBe(true);
    expect(
      isTransient(new RpcRequestError({ body: {}, url, error: { code: -32005, message: "limit" } })),
    ).toBe(true);
  });

  it("never retries reverts, client errors or invalid arguments", () => {
    expect(isTransient(timeoutRevert())).toBe(false);
    expect(timeoutRevert().message).toMatch(/timeout/);
    expect(isTransient(hexRevert())).toBe(false);
    expect(hexRevert().message).toMatch(/429/);
    expect(isTransient(new HttpRequestError({ url, status: 400 }))).toBe(false);
    expect(
      isTransient(new RpcRequestError({ body: {}, url, error: { code: 3, message: "execution reverted" } })),
    ).toBe(false);
    expect(isTransient(new Error("request timeout 429 fetch failed socket"))).toBe(false);
    expect(revertName(timeoutRevert())).toBe("ClockNotExpired");
  });
});

describe("withRetry", () => {
  const saved = RETRY_DELAY_MS.first;
  beforeAll(() => {
    RETRY_DELAY_MS.first = 1;
  });
  afterAll(() => {
    RETRY_DELAY_MS.first = saved;
  });
  const countCalls = async (err: () => Error) => {
    let calls = 0;
    const t0 = Date.now();
    await expect(
      withRetry(async () => {
        calls++;
        throw err();
      }, "move"),
    ).rejects.toThrow();
    return { calls, ms: Date.now() - t0 };
  };

  it("a revert of `timeout` fails at once (no backoff)", async () => {
    const r = await countCalls(timeoutRevert);
    expect(r.calls).toBe(1);
    expect(r.ms).toBeLessThan(150);
  }, 30_000);

  it("a revert with 429 in its calldata fails at once", async () => {
    const r = await countCalls(hexRevert);
    expect(r.calls).toBe(1);
    expect(r.ms).toBeLessThan(150);
  }, 30_000);

  it("a transient failure is retried, then succeeds", async () => {
    let calls = 0;
    const v = await withRetry(async () => {
      if (++calls < 3) throw new HttpRequestError({ url, status: 503 });
      return 42;
    }, "x");
    expect(v).toBe(42);
    expect(calls).toBe(3);
  });

  it("logs each retry as it happens (issue 13), and nothing for a failure it does not retry", async () => {
    const logged: [string, string, Record<string, unknown> | undefined][] = [];
    const saved = rpcLog.log;
    rpcLog.log = (level, msg, fields) => logged.push([level, msg, fields]);
    try {
      let calls = 0;
      await withRetry(async () => {
        if (++calls < 3) throw new HttpRequestError({ url, status: 503 });
        return 1;
      }, "claimOf");
      expect(logged.map(([l, m, f]) => [l, m, f?.what, f?.attempt])).toEqual([
        ["warn", "rpc retry", "claimOf", 1],
        ["warn", "rpc retry", "claimOf", 2],
      ]);
      expect(logged[0][2]?.error).toMatch(/HTTP request failed/);
      logged.length = 0;
      await expect(withRetry(async () => Promise.reject(timeoutRevert()), "timeout")).rejects.toThrow();
      expect(logged).toEqual([]);
    } finally {
      rpcLog.log = saved;
    }
  });
});
