// The verified-root cache of loadPackage (docs/PROTOCOL.md §3.1): a record saying "weights.bin,
// with this identity and this content checksum, was hashed and matched these (offset, length, root)
// entries". Re-opening an unchanged package then costs one read and one checksum pass instead of a
// full Merkle hash of every weight. A record is only a hint: anything that fails a check (or cannot
// be read, parsed or written) is ignored and the package is verified in full, never refused.
import { randomBytes } from "node:crypto";
import {
  type BigIntStats,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";

export const CACHE_FILE = ".opml-roots.json";
const FORMAT = "opml-root-cache/1";

/** What the record pins about weights.bin: fstat fields taken around the read, and the checksum. */
export interface FileIdentity {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  /** commit/merkle.ts contentChecksum of the whole file, hex. */
  checksum: string;
}

export interface CacheRecord {
  format: typeof FORMAT;
  weights: FileIdentity;
  /** keccak256 of the verified (offset, byte length, root) list, hex. */
  entries: string;
  /** keccak256(key ‖ the fields above), hex: a record not made with this user's key is ignored. */
  mac: string;
}

export function identityOf(st: BigIntStats, checksum: Uint8Array): FileIdentity {
  return {
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    ino: String(st.ino),
    checksum: Buffer.from(checksum).toString("hex"),
  };
}

export function sameStat(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

/** keccak256 of the manifest's (offset, byte length, root) list: what a record vouches for. */
export function entriesHash(list: readonly [number, number, string][]): string {
  return Buffer.from(keccak_256(new TextEncoder().encode(JSON.stringify(list)))).toString("hex");
}

/** OPML_CACHE_DIR, else the platform's user cache directory, + /opml. */
export function userCacheDir(): string {
  const env = process.env;
  if (env.OPML_CACHE_DIR) return env.OPML_CACHE_DIR;
  const base =
    process.platform === "win32"
      ? (env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"))
      : process.platform === "darwin"
        ? join(homedir(), "Library", "Caches")
        : (env.XDG_CACHE_HOME ?? join(homedir(), ".cache"));
  return join(base, "opml");
}

/** Whether OPML_ROOT_CACHE=0 turned the cache off. */
export function cacheEnabled(): boolean {
  return process.env.OPML_ROOT_CACHE !== "0";
}

/** This user's 32-byte key (made on first use, mode 0600), or undefined if it cannot be had. */
function userKey(): Uint8Array | undefined {
  const dir = userCacheDir();
  const file = join(dir, "root-cache.key");
  try {
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, randomBytes(32), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file); // racing processes: the last key wins; records made with another are misses
    }
    const key = readFileSync(file);
    return key.length === 32 ? key : undefined;
  } catch {
    return undefined;
  }
}

function mac(key: Uint8Array, w: FileIdentity, entries: string): string {
  const body = JSON.stringify([FORMAT, w.size, w.mtimeNs, w.ctimeNs, w.ino, w.checksum, entries]);
  const msg = new Uint8Array([...key, ...new TextEncoder().encode(body)]);
  return Buffer.from(keccak_256(msg)).toString("hex");
}

/** Where the record of package `dir` may live: inside it, then in the user cache directory. */
function places(dir: string): string[] {
  const out = [join(dir, CACHE_FILE)];
  try {
    const id = Buffer.from(keccak_256(new TextEncoder().encode(realpathSync(dir)))).toString("hex");
    out.push(join(userCacheDir(), "roots", `${id.slice(0, 32)}.json`));
  } catch {
    // no real path: only the package directory
  }
  return out;
}

/** Whether a valid record (this user's key) vouches for exactly this file identity and entry list. */
export function cacheHit(dir: string, w: FileIdentity, entries: string): boolean {
  const key = userKey();
  if (!key) return false;
  const want = mac(key, w, entries);
  for (const file of places(dir)) {
    try {
      const r = JSON.parse(readFileSync(file, "utf8")) as CacheRecord;
      if (r?.format !== FORMAT || r.mac !== want || r.entries !== entries) continue;
      const c = r.weights;
      if (
        c.size === w.size &&
        c.mtimeNs === w.mtimeNs &&
        c.ctimeNs === w.ctimeNs &&
        c.ino === w.ino &&
        c.checksum === w.checksum
      )
        return true;
    } catch {
      // missing or unreadable: try the next place
    }
  }
  return false;
}

/** Stores a record (atomically) in the first place that takes it; silently none if none does. */
export function storeRecord(dir: string, w: FileIdentity, entries: string): string | undefined {
  const key = userKey();
  if (!key) return undefined;
  const rec: CacheRecord = { format: FORMAT, weights: w, entries, mac: mac(key, w, entries) };
  for (const file of places(dir)) {
    try {
      mkdirSync(join(file, ".."), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(rec)}\n`);
      renameSync(tmp, file);
      return file;
    } catch {
      // not writable here: try the next place
    }
  }
  return undefined;
}
