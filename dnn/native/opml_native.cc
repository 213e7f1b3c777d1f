// The native backend's kernels (docs/NUMERICS.md §7): the same integer arithmetic as the DNN WASM
// module (dnn/assembly), run directly on that module's linear memory and parameter blocks.
//
// Bit-identity rests on two facts. (1) Sums of products are exact integers, so any summation order,
// vector width or blocking gives the same value; a double-precision path is used only when a bound
// proves every partial sum is an integer below 2^53 (then every FMA is exact), else 64-bit integer
// lanes with wrap-around, which is what the reference's i64 adds do. (2) The rounding and saturation
// steps after the sum are transcriptions of dnn/assembly/fixed.ts, applied to the same operands.
//
// A kernel handles only the opcodes and parameter forms written here; for anything else, for any
// access the bounds check cannot prove inside the memory, or for outputs that overlap inputs or the
// parameter block, it declines and the host runs the reference module for that node.
// Compiled with -fwrapv: signed overflow wraps, as WASM's integer ops do.
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using i32 = int32_t;
using i64 = int64_t;
using u32 = uint32_t;
using u64 = uint64_t;

constexpr int FRAC = 16;
constexpr i32 ONE = 1 << FRAC;
constexpr i64 I32_MAX = 0x7fffffff;
constexpr i64 I32_MIN = -0x80000000LL;

// ---- dnn/assembly/fixed.ts -------------------------------------------------------------------
inline i32 sat(i64 x) { return x > I32_MAX ? (i32)I32_MAX : x < I32_MIN ? (i32)I32_MIN : (i32)x; }
inline i64 rshr(i64 x, int s) { return (i64)((u64)x + ((u64)1 << (s - 1))) >> s; }
inline i32 mulq(i32 a, i32 b) { return sat(rshr((i64)a * (i64)b, FRAC)); }
inline i64 floorDiv(i64 n, i64 d) {
  i64 q = n / d;
  if (n % d != 0 && n < 0) q -= 1;
  return q;
}
inline i64 divRound(i64 n, i64 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  return floorDiv(2 * n + d, 2 * d);
}
inline i32 divq(i32 a, i32 b) {
  if (b == 0) return a > 0 ? (i32)I32_MAX : a < 0 ? (i32)I32_MIN : 0;
  return sat(divRound((i64)a * ONE, (i64)b));
}

constexpr i64 ONE30 = (i64)1 << 30;
inline i64 shl(i64 x, int s) { return (i64)((u64)x << (s & 63)); }  // wasm i64.shl
inline i64 rshrAny(i64 x, int s) {
  if (s <= 0) return x;
  if (s >= 63) return x < 0 ? (x >= -((i64)1 << 62) ? 0 : -1) : 0;
  return rshr(x, s);
}
inline u64 isqrt(u64 n) {
  u64 res = 0, bit = (u64)1 << 62;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= res + bit) {
      n -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}
inline u64 isqrtRound(u64 n) {
  const u64 r = isqrt(n);
  return n - r * r > r ? r + 1 : r;
}

// ---- dnn/assembly/nonlinear.ts -----------------------------------------------------------------
constexpr i64 LN2_Q30 = 744261118;
constexpr i64 SQRT1_2_Q30 = 759250125;
constexpr i64 SQRT_2_PI_Q30 = 856722024;
constexpr i64 GELU_C_Q30 = 48012366;
constexpr i64 ERF_P_Q30 = 351748265;
constexpr i64 ERF_A1 = 273621191, ERF_A2 = -305476044, ERF_A3 = 1526231383, ERF_A4 = -1560310108,
              ERF_A5 = 1139675401;
constexpr i64 BIG = (i64)1 << 62;

i64 expQ30(i64 x30, int outFrac) {
  if (x30 > ((i64)21 << 30)) return BIG;
  if (x30 < -((i64)45 << 30)) return 0;
  const i64 k = floorDiv(x30 + (LN2_Q30 >> 1), LN2_Q30);
  const i64 r = x30 - k * LN2_Q30;
  i64 t = ONE30;
  for (i64 i = 7; i >= 1; i--) t = ONE30 + divRound(rshr(r * t, 30), i);
  const int shift = 30 - outFrac - (i32)k;
  if (shift >= 0) return rshrAny(t, shift);
  if (-shift > 31) return BIG;
  return shl(t, -shift);
}

i64 logQ30(i64 x, int inFrac) {
  const int p = 63 - (x == 0 ? 64 : __builtin_clzll((u64)x));
  const i64 m = p > 30 ? rshr(x, p - 30) : shl(x, 30 - p);
  const i64 s = divRound(shl(m - ONE30, 30), m + ONE30);
  const i64 s2 = rshr(s * s, 30);
  i64 t = divRound(ONE30, 13);
  for (i64 j = 5; j >= 0; j--) t = divRound(ONE30, 2 * j + 1) + rshr(s2 * t, 30);
  const i64 lnm = 2 * rshr(s * t, 30);
  return (i64)(p - inFrac) * LN2_Q30 + lnm;
}

inline i32 expq(i32 x) { return sat(expQ30(shl(x, 14), FRAC)); }
inline i32 logq(i32 x) { return x <= 0 ? (i32)I32_MIN : sat(rshr(logQ30((i64)x, FRAC), 14)); }
inline i32 sqrtq(i32 x) { return x <= 0 ? 0 : sat((i64)isqrtRound((u64)x << FRAC)); }
inline i32 sigmoidq(i32 x) {
  const i64 ax = x < 0 ? -(i64)x : (i64)x;
  const i64 e = expQ30(-shl(ax, 14), 30);
  if (x >= 0) return sat(divRound(shl(ONE30, FRAC), ONE30 + e));
  return sat(divRound(shl(e, FRAC), ONE30 + e));
}
inline i64 tanhQ30(i64 z) {
  const i64 az = z < 0 ? -z : z;
  if (az > ((i64)24 << FRAC)) return z < 0 ? -ONE30 : ONE30;
  const i64 e = expQ30(-shl(az, 15), 30);
  const i64 th = divRound(shl(ONE30 - e, 30), ONE30 + e);
  return z < 0 ? -th : th;
}
inline i32 tanhq(i32 x) { return sat(rshr(tanhQ30((i64)x), 14)); }
inline i64 erfQ30(i64 ax24) {
  if (ax24 >= ((i64)6 << 24)) return ONE30;
  const i64 pax = rshr(ERF_P_Q30 * ax24, 24);
  const i64 t = divRound(shl(ONE30, 30), ONE30 + pax);
  i64 poly = ERF_A5;
  poly = ERF_A4 + rshr(t * poly, 30);
  poly = ERF_A3 + rshr(t * poly, 30);
  poly = ERF_A2 + rshr(t * poly, 30);
  poly = ERF_A1 + rshr(t * poly, 30);
  poly = rshr(t * poly, 30);
  const i64 e = expQ30(-rshr(ax24 * ax24, 18), 30);
  return ONE30 - rshr(poly * e, 30);
}
inline i32 erfq(i32 x) {
  const i64 ax = x < 0 ? -(i64)x : (i64)x;
  const i64 r = rshr(erfQ30(shl(ax, 8)), 14);
  return sat(x < 0 ? -r : r);
}
inline i32 geluq(i32 x) {
  const i64 ax = x < 0 ? -(i64)x : (i64)x;
  const i64 e = erfQ30(rshr(ax * SQRT1_2_Q30, 22));
  const i64 f = x < 0 ? ONE30 - e : ONE30 + e;
  return sat(rshr((i64)x * f, 31));
}
inline i32 geluTanhq(i32 x) {
  if (x >= 8 * ONE) return x;
  if (x <= -8 * ONE) return 0;
  const i64 x64 = x;
  const i64 x3 = rshr(rshr(x64 * x64, FRAC) * x64, FRAC);
  const i64 inner = x64 + rshr(GELU_C_Q30 * x3, 30);
  const i64 th = tanhQ30(rshr(SQRT_2_PI_Q30 * inner, 30));
  return sat(rshr(x64 * (ONE30 + th), 31));
}
inline i32 softplusq(i32 x) {
  const i64 ax = x < 0 ? -(i64)x : (i64)x;
  const i64 l = logQ30(ONE30 + expQ30(-shl(ax, 14), 30), 30);
  return sat((x > 0 ? (i64)x : 0) + rshr(l, 14));
}
inline i32 expm1Scaled(i32 x, i32 alpha) {
  const i64 em1 = expQ30(shl(x, 14), 30) - ONE30;
  return sat(rshr((i64)alpha * em1, 30));
}
inline i32 roundEvenq(i32 x) {
  const i64 x64 = x;
  const i64 fl = x64 & ~(i64)(ONE - 1);
  const i64 frac = x64 - fl;
  const i64 half = ONE / 2;
  i64 r = fl;
  if (frac > half || (frac == half && ((fl >> FRAC) & 1) != 0)) r = fl + ONE;
  return sat(r);
}

// ---- opcodes (dnn/src/opcodes.ts) ------------------------------------------------------------
enum {
  OP_UNARY = 1, OP_BINARY = 2, OP_MATMUL = 4, OP_CONV = 5, OP_POOL = 6, OP_SOFTMAX = 7, OP_LAYERNORM = 8,
  OP_CHANNEL_AFFINE = 9, OP_REDUCE = 10, OP_ARGMAX = 11, OP_COPY = 12, OP_WHERE = 3, OP_GATHER = 13,
  OP_MATMUL_Q8 = 14, OP_CONV_Q8 = 15
};
constexpr int COPY_WORDS = 22;

// ---- the memory and the parameter block --------------------------------------------------------
struct Mem {
  uint8_t* base;
  u64 size;
};

/** Byte interval [lo, hi) touched by a node; empty when lo >= hi. */
struct Span {
  i64 lo, hi;
};

struct Node {
  Mem mem;
  u32 p;
  i32 nIn, nOut, nParams;
  bool ok;
  const i32* w;  // the block, word-indexed from p
  std::vector<Span> reads, writes;

  Node(Mem m, u32 ptr) : mem(m), p(ptr), nIn(0), nOut(0), nParams(0), ok(false), w(nullptr) {
    if ((ptr & 3) != 0 || (u64)ptr + 16 > m.size) return;
    w = (const i32*)(m.base + ptr);
    nIn = w[1];
    nOut = w[2];
    nParams = w[3];
    if (nIn < 0 || nOut < 0 || nParams < 0) return;
    if ((u64)ptr + 16 + 4 * ((u64)nIn + nOut + nParams) > m.size) return;
    ok = true;
  }
  i32 op() const { return w[0]; }
  u32 inPtr(int i) const { return (u32)w[4 + i]; }
  u32 outPtr(int i) const { return (u32)w[4 + nIn + i]; }
  i32 prm(int i) const { return i < nParams ? w[4 + nIn + nOut + i] : 0; }
  u64 blockEnd() const { return (u64)p + 16 + 4 * ((u64)nIn + nOut + nParams); }

  /** Records the words [base + 4·lo, base + 4·(hi+1)) as read (or written); false if outside memory. */
  bool span(u32 base, i64 lo, i64 hi, bool write) {
    if (hi < lo) return true;
    i64 a = (i64)base + 4 * lo, b = (i64)base + 4 * hi + 4;
    if (a < 0 || (u64)b > mem.size) return false;
    (write ? writes : reads).push_back({a, b});
    return true;
  }
  /** Records the bytes [base + lo, base + hi + 1) as read: an int8 tensor's elements. */
  bool spanBytes(u32 base, i64 lo, i64 hi) {
    if (hi < lo) return true;
    i64 a = (i64)base + lo, b = (i64)base + hi + 1;
    if (a < 0 || (u64)b > mem.size) return false;
    reads.push_back({a, b});
    return true;
  }
  /** No written interval may overlap a read one or the parameter block (the reference reads both
   * while it writes, so overlap would make the result depend on the order of writes). */
  bool disjoint() const {
    for (const Span& wr : writes) {
      if (wr.lo < (i64)blockEnd() && (i64)p < wr.hi) return false;
      for (const Span& rd : reads)
        if (wr.lo < rd.hi && rd.lo < wr.hi) return false;
    }
    return true;
  }
  i32* at(u32 base, i64 elem) const { return (i32*)(mem.base + base + 4 * elem); }
  const int8_t* at8(u32 base, i64 elem) const { return (const int8_t*)(mem.base + base + elem); }
};

/** Element-offset range [lo, hi] of Σ i_d·s_d over i_d < dims_d (all dims > 0). */
inline void range(const i64* dims, const i64* strides, int n, i64& lo, i64& hi) {
  lo = 0;
  hi = 0;
  for (int d = 0; d < n; d++) {
    i64 e = (dims[d] - 1) * strides[d];
    if (e < 0) lo += e;
    else hi += e;
  }
}

// ---- GEMM core ------------------------------------------------------------------------------
// acc[m][n] = Σ_k A(m,k)·B(k,n), exact; the epilogue turns each into an output word.
// A is gathered into a row-major copy, B in panels of NR columns by a packer callback.
constexpr int NR = 8;
constexpr int MR = 6;

bool hasAvx2() {
#if defined(__x86_64__)
  static const bool v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return v;
#else
  return false;
#endif
}

// Scratch buffers, per thread (a worker may load the addon too); looked up once per call, since
// each access to a thread_local in a shared object can cost a call.
struct Scratch {
  std::vector<i32> A, B;
  std::vector<double> Ad, Bd;
  std::vector<i64> acc;
};
thread_local Scratch scratch;

#if defined(__x86_64__)
// Accumulators are named registers (ROWS expands one block per row r < R): with arrays of vectors
// GCC spilled every accumulator to the stack on every step.
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

template <int R>
__attribute__((target("avx2,fma"))) void kernD(const double* A, i64 lda, const double* B, int K, i64* out) {
#define DECL(r) __m256d c##r##l = _mm256_setzero_pd(), c##r##h = _mm256_setzero_pd();
  ROWS(DECL)
#undef DECL
  for (int k = 0; k < K; k++) {
    const __m256d b0 = _mm256_loadu_pd(B + NR * k), b1 = _mm256_loadu_pd(B + NR * k + 4);
#define STEP(r)                                                 \
  if constexpr (R > r) {                                        \
    const __m256d a = _mm256_broadcast_sd(A + r * lda + k);     \
    c##r##l = _mm256_fmadd_pd(a, b0, c##r##l);                  \
    c##r##h = _mm256_fmadd_pd(a, b1, c##r##h);                  \
  }
    ROWS(STEP)
#undef STEP
  }
  alignas(32) double t[NR];
#define OUT(r)                                                      \
  if constexpr (R > r) {                                            \
    _mm256_store_pd(t, c##r##l);                                    \
    _mm256_store_pd(t + 4, c##r##h);                                \
    for (int j = 0; j < NR; j++) out[r * NR + j] = (i64)t[j];       \
  }
  ROWS(OUT)
#undef OUT
}

template <int R>
__attribute__((target("avx2,fma"))) void kernI(const i32* A, i64 lda, const i32* B, int K, i64* out) {
#define DECL(r) __m256i e##r = _mm256_setzero_si256(), o##r = _mm256_setzero_si256();
  ROWS(DECL)
#undef DECL
  for (int k = 0; k < K; k++) {
    const __m256i b = _mm256_loadu_si256((const __m256i*)(B + NR * k));
    const __m256i bo = _mm256_srli_epi64(b, 32);
#define STEP(r)                                                       \
  if constexpr (R > r) {                                              \
    const __m256i a = _mm256_set1_epi32(A[r * lda + k]);              \
    e##r = _mm256_add_epi64(e##r, _mm256_mul_epi32(a, b));            \
    o##r = _mm256_add_epi64(o##r, _mm256_mul_epi32(a, bo));           \
  }
    ROWS(STEP)
#undef STEP
  }
  alignas(32) i64 e[4], o[4];
#define OUT(r)                                              \
  if constexpr (R > r) {                                    \
    _mm256_store_si256((__m256i*)e, e##r);                  \
    _mm256_store_si256((__m256i*)o, o##r);                  \
    for (int j = 0; j < 4; j++) {                           \
      out[r * NR + 2 * j] = e[j];                           \
      out[r * NR + 2 * j + 1] = o[j];                       \
    }                                                       \
  }
  ROWS(OUT)
#undef OUT
}
#endif

void kernScalar(const i32* A, i64 lda, const i32* B, int K, int R, i64* out) {
  for (int r = 0; r < R; r++) {
    i64 acc[NR] = {0, 0, 0, 0, 0, 0, 0, 0};
    const i32* a = A + r * lda;
    for (int k = 0; k < K; k++) {
      i64 av = a[k];
      for (int j = 0; j < NR; j++) acc[j] += av * (i64)B[NR * k + j];
    }
    for (int j = 0; j < NR; j++) out[r * NR + j] = acc[j];
  }
}

/** max |v| over n words, as an unsigned value (|−2^31| = 2^31). */
#if defined(__x86_64__)
__attribute__((target("avx2"))) u64 maxAbsAvx2(const i32* v, size_t n) {
  __m256i m = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_epu32(m, _mm256_abs_epi32(_mm256_loadu_si256((const __m256i*)(v + i))));
  alignas(32) u32 t[8];
  _mm256_store_si256((__m256i*)t, m);
  u64 r = 0;
  for (int j = 0; j < 8; j++) r = t[j] > r ? t[j] : r;
  for (; i < n; i++) {
    const u64 a = v[i] < 0 ? (u64)(-(i64)v[i]) : (u64)v[i];
    r = a > r ? a : r;
  }
  return r;
}
__attribute__((target("avx2"))) void toDoubleAvx2(const i32* v, double* d, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(d + i, _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i*)(v + i))));
  for (; i < n; i++) d[i] = (double)v[i];
}
#endif
u64 maxAbs(const i32* v, size_t n) {
#if defined(__x86_64__)
  if (hasAvx2()) return maxAbsAvx2(v, n);
#endif
  u64 r = 0;
  for (size_t i = 0; i < n; i++) {
    const u64 a = v[i] < 0 ? (u64)(-(i64)v[i]) : (u64)v[i];
    r = a > r ? a : r;
  }
  return r;
}
void toDouble(const i32* v, double* d, size_t n) {
#if defined(__x86_64__)
  if (hasAvx2()) return toDoubleAvx2(v, d, n);
#endif
  for (size_t i = 0; i < n; i++) d[i] = (double)v[i];
}

/** One tile: rows [m0, m0+R) of the A block against one panel, kc terms, into out[R][NR]. */
inline void tile(bool dbl, bool simd, int R, const i32* a, const double* ad, i64 lda, const i32* b, const double* bd,
                 int kc, i64* out) {
#if defined(__x86_64__)
  if (dbl) {
    switch (R) {
      case 1: kernD<1>(ad, lda, bd, kc, out); return;
      case 2: kernD<2>(ad, lda, bd, kc, out); return;
      case 3: kernD<3>(ad, lda, bd, kc, out); return;
      case 4: kernD<4>(ad, lda, bd, kc, out); return;
      case 5: kernD<5>(ad, lda, bd, kc, out); return;
      default: kernD<6>(ad, lda, bd, kc, out); return;
    }
  }
  if (simd) {
    switch (R) {
      case 1: kernI<1>(a, lda, b, kc, out); return;
      case 2: kernI<2>(a, lda, b, kc, out); return;
      case 3: kernI<3>(a, lda, b, kc, out); return;
      case 4: kernI<4>(a, lda, b, kc, out); return;
      case 5: kernI<5>(a, lda, b, kc, out); return;
      default: kernI<6>(a, lda, b, kc, out); return;
    }
  }
#endif
  (void)ad;
  (void)bd;
  (void)dbl;
  (void)simd;
  kernScalar(a, lda, b, kc, R, out);
}

// Cache blocking: CP panels (CP·NR columns) are packed at a time and the sum runs in KC-term
// blocks, so a KC×CP·NR block of B stays in L2 and a MR×KC block of A in L1 while they are reused.
// Partial sums are exact integers and are added in i64 (wrapping like the reference on the i64 path).
constexpr int CP = 16;
constexpr int KC = 256;

/** packB(n0, nw, dst) must write all K×NR words of its panel when ZeroB is false (zeros past nw:
 * they enter the max |b| bound); with ZeroB the panel starts zeroed. */
template <bool ZeroB, typename GetA, typename PackB, typename Emit>
void gemm(int M, int K, int N, GetA getA, PackB packB, Emit emit) {
  if (M <= 0 || N <= 0) return;
  const bool simd = hasAvx2();
  Scratch& sc = scratch;
  const size_t panel = (size_t)K * NR;
  sc.A.resize((size_t)M * K + 1);
  sc.B.resize(panel * CP + 1);
  sc.Bd.resize(panel * CP + 1);
  sc.acc.resize((size_t)M * CP * NR);
  i32* const pA = sc.A.data();
  i32* const pB = sc.B.data();
  double* const pBd = sc.Bd.data();
  i64* const acc = sc.acc.data();
  double* pAd = nullptr;
  for (int m = 0; m < M; m++) getA(m, pA + (size_t)m * K);
  const u64 maxA = maxAbs(pA, (size_t)M * K);
  i64 out[MR * NR];
  for (int c0 = 0; c0 < N; c0 += CP * NR) {
    const int cw = N - c0 < CP * NR ? N - c0 : CP * NR;
    const int np = (cw + NR - 1) / NR;
    if (ZeroB) std::memset(pB, 0, sizeof(i32) * panel * np);
    for (int p = 0; p < np; p++) {
      const int n0 = c0 + p * NR;
      packB(n0, N - n0 < NR ? N - n0 : NR, pB + panel * p);
    }
    // Exact in doubles iff every partial sum is an integer of magnitude ≤ 2^53.
    const u64 maxB = maxAbs(pB, panel * np);
    const bool dbl = simd && (unsigned __int128)(u64)K * maxA * maxB <= ((unsigned __int128)1 << 53);
    if (dbl) {
      if (!pAd) {
        sc.Ad.resize((size_t)M * K + 1);
        pAd = sc.Ad.data();
        toDouble(pA, pAd, (size_t)M * K);
      }
      toDouble(pB, pBd, panel * np);
    }
    std::memset(acc, 0, sizeof(i64) * (size_t)M * CP * NR);
    for (int k0 = 0; k0 < K || k0 == 0; k0 += KC) {
      const int kc = K - k0 < KC ? K - k0 : KC;
      for (int m0 = 0; m0 < M; m0 += MR) {
        const int R = M - m0 < MR ? M - m0 : MR;
        for (int p = 0; p < np; p++) {
          const size_t bo = panel * p + (size_t)k0 * NR, ao = (size_t)m0 * K + k0;
          tile(dbl, simd, R, pA + ao, pAd ? pAd + ao : nullptr, K, pB + bo, pBd + bo, kc, out);
          i64* ar = acc + (size_t)m0 * CP * NR + p * NR;
          for (int r = 0; r < R; r++)
            for (int j = 0; j < NR; j++)
              ar[r * CP * NR + j] = (i64)((u64)ar[r * CP * NR + j] + (u64)out[r * NR + j]);
        }
      }
      if (K == 0) break;
    }
    for (int m = 0; m < M; m++)
      for (int j = 0; j < cw; j++) emit(m, c0 + j, acc[(size_t)m * CP * NR + j]);
  }
}

// ---- dot products: rows of A against columns of B, both contiguous along k --------------------
// For few rows (M = 1 in a Gemm, attention's Q·Kᵀ) packing costs more than it saves. 64-bit lanes:
// mul_epi32 multiplies the low (signed) halves, so even and odd words go through two products.
#if defined(__x86_64__)
__attribute__((target("avx2"))) inline i64 hsum(__m256i v) {
  alignas(32) i64 t[4];
  _mm256_store_si256((__m256i*)t, v);
  return (i64)((u64)t[0] + (u64)t[1] + (u64)t[2] + (u64)t[3]);
}

/** out[j] = Σ_k a[k]·b_j[k] for j < 4, b_j = b + j·ldb. */
__attribute__((target("avx2"))) void dot4(const i32* a, const i32* b, i64 ldb, int K, i64* out) {
  __m256i e0 = _mm256_setzero_si256(), e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
  const i32 *b0 = b, *b1 = b + ldb, *b2 = b + 2 * ldb, *b3 = b + 3 * ldb;
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    const __m256i av = _mm256_loadu_si256((const __m256i*)(a + k)), ao = _mm256_srli_epi64(av, 32);
#define DOT(j)                                                                  \
  {                                                                             \
    const __m256i bv = _mm256_loadu_si256((const __m256i*)(b##j + k));          \
    e##j = _mm256_add_epi64(e##j, _mm256_mul_epi32(av, bv));                    \
    o##j = _mm256_add_epi64(o##j, _mm256_mul_epi32(ao, _mm256_srli_epi64(bv, 32))); \
  }
    DOT(0) DOT(1) DOT(2) DOT(3)
#undef DOT
  }
  out[0] = hsum(_mm256_add_epi64(e0, o0));
  out[1] = hsum(_mm256_add_epi64(e1, o1));
  out[2] = hsum(_mm256_add_epi64(e2, o2));
  out[3] = hsum(_mm256_add_epi64(e3, o3));
  for (; k < K; k++) {
    const i64 av = a[k];
    out[0] += av * b0[k];
    out[1] += av * b1[k];
    out[2] += av * b2[k];
    out[3] += av * b3[k];
  }
}
#endif

/** acc(m, n) = Σ_k A[m·lda + k]·B[n·ldb + k]. */
template <typename Emit>
void dots(const i32* A, i64 lda, const i32* B, i64 ldb, int M, int K, int N, Emit emit) {
  const bool simd = hasAvx2();
  i64 out[4];
  for (int m = 0; m < M; m++) {
    const i32* a = A + m * lda;
    int n = 0;
#if defined(__x86_64__)
    if (simd)
      for (; n + 4 <= N; n += 4) {
        dot4(a, B + n * ldb, ldb, K, out);
        for (int j = 0; j < 4; j++) emit(m, n + j, out[j]);
      }
#endif
    for (; n < N; n++) {
      const i32* b = B + n * ldb;
      i64 acc = 0;
      for (int k = 0; k < K; k++) acc += (i64)a[k] * b[k];
      emit(m, n, acc);
    }
  }
}

// ---- MATMUL, MATMUL_Q8 (dnn/assembly/linalg.ts matmulT) ---------------------------------------
// Q8: B is int8 (bytes) and the sum of column n is multiplied by the scale S[n] (wrapping, like the
// reference's i64 multiply) before the epilogue; C is then input 3.
template <bool Q8>
__attribute__((noinline)) bool matmulT(Node& nd) {
  using WT = typename std::conditional<Q8, int8_t, i32>::type;
  if (nd.nParams < 28 || nd.nIn < (Q8 ? 3 : 2) || nd.nOut < 1) return false;
  i64 bd[4], sa[4], sb[4], sc[4];
  for (int i = 0; i < 4; i++) {
    bd[i] = nd.prm(i);
    sa[i] = nd.prm(4 + i);
    sb[i] = nd.prm(8 + i);
    sc[i] = nd.prm(12 + i);
  }
  const i32 M = nd.prm(16), K = nd.prm(17), N = nd.prm(18);
  const i64 sAm = nd.prm(19), sAk = nd.prm(20), sBk = nd.prm(21), sBn = nd.prm(22);
  const bool hasBias = nd.prm(23) != 0;
  const i64 sCm = nd.prm(24), sCn = nd.prm(25);
  const i32 alpha = nd.prm(26), beta = nd.prm(27);
  if (hasBias && nd.nIn < (Q8 ? 4 : 3)) return false;
  for (int i = 0; i < 4; i++)
    if (bd[i] <= 0) return true;  // the reference's loops do not run: nothing to do
  if (M <= 0 || N <= 0) return true;
  const u32 A = nd.inPtr(0), B = nd.inPtr(1), S = Q8 ? nd.inPtr(2) : 0, C = hasBias ? nd.inPtr(Q8 ? 3 : 2) : 0,
            Y = nd.outPtr(0);
  if (Q8 && !nd.span(S, 0, N - 1, false)) return false;
  const i32* ps = Q8 ? nd.at(S, 0) : nullptr;
  i64 lo, hi;
  if (K > 0) {
    i64 dA[6] = {bd[0], bd[1], bd[2], bd[3], M, K}, tA_[6] = {sa[0], sa[1], sa[2], sa[3], sAm, sAk};
    range(dA, tA_, 6, lo, hi);
    if (!nd.span(A, lo, hi, false)) return false;
    i64 dB[6] = {bd[0], bd[1], bd[2], bd[3], K, N}, tB_[6] = {sb[0], sb[1], sb[2], sb[3], sBk, sBn};
    range(dB, tB_, 6, lo, hi);
    if (!(Q8 ? nd.spanBytes(B, lo, hi) : nd.span(B, lo, hi, false))) return false;
  }
  if (hasBias) {
    i64 dC[6] = {bd[0], bd[1], bd[2], bd[3], M, N}, tC[6] = {sc[0], sc[1], sc[2], sc[3], sCm, sCn};
    range(dC, tC, 6, lo, hi);
    if (!nd.span(C, lo, hi, false)) return false;
  }
  const i64 total = bd[0] * bd[1] * bd[2] * bd[3] * M * N;
  if (total > (i64)1 << 32 || !nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  i64 yOff = 0;
  for (i64 b0 = 0; b0 < bd[0]; b0++)
    for (i64 b1 = 0; b1 < bd[1]; b1++)
      for (i64 b2 = 0; b2 < bd[2]; b2++)
        for (i64 b3 = 0; b3 < bd[3]; b3++) {
          const i32* pa = nd.at(A, 0) + (b0 * sa[0] + b1 * sa[1] + b2 * sa[2] + b3 * sa[3]);
          const i64 bOff = b0 * sb[0] + b1 * sb[1] + b2 * sb[2] + b3 * sb[3];
          const WT* pb;
          if constexpr (Q8) pb = nd.at8(B, bOff);
          else pb = nd.at(B, bOff);
          const i32* pc = hasBias ? nd.at(C, 0) + (b0 * sc[0] + b1 * sc[1] + b2 * sc[2] + b3 * sc[3]) : nullptr;
          i32* y = nd.at(Y, yOff);
          auto emit = [&](int m, int n, i64 acc) {
            if constexpr (Q8) acc = (i64)((u64)acc * (u64)(i64)ps[n]);
            i32 bias = 0;
            if (hasBias) {
              bias = pc[m * sCm + n * sCn];
              if (beta != ONE) bias = mulq(bias, beta);
            }
            i32 v;
            if (alpha == ONE) v = sat(rshr(acc + (i64)bias * ONE, FRAC));
            else v = sat((i64)mulq(sat(rshr(acc, FRAC)), alpha) + (i64)bias);
            y[(i64)m * N + n] = v;
          };
          if constexpr (!Q8) if (sAk == 1 && sBk == 1 && M < 16) {
            dots(pa, sAm, pb, sBn, M, K, N, emit);
            yOff += (i64)M * N;
            continue;
          }
          gemm<false>(
              M, K, N,
              [&](int m, i32* dst) {
                const i32* row = pa + m * sAm;
                if (sAk == 1) std::memcpy(dst, row, 4 * (size_t)K);
                else
                  for (int k = 0; k < K; k++) dst[k] = row[k * sAk];
              },
              [&](int n0, int nw, i32* dst) {
                if (sBn == 1 && nw == NR) {
                  if constexpr (Q8)
                    for (int k = 0; k < K; k++) {
                      const int8_t* r = pb + k * sBk + n0;
                      for (int j = 0; j < NR; j++) dst[NR * k + j] = r[j];
                    }
                  else
                    for (int k = 0; k < K; k++) std::memcpy(dst + NR * k, pb + k * sBk + n0, 4 * NR);
                  return;
                }
                // Column by column: contiguous reads when B is stored transposed (sBk = 1).
                for (int j = 0; j < nw; j++) {
                  const WT* col = pb + (n0 + j) * sBn;
                  if (sBk == 1)
                    for (int k = 0; k < K; k++) dst[NR * k + j] = col[k];
                  else
                    for (int k = 0; k < K; k++) dst[NR * k + j] = col[k * sBk];
                }
                for (int j = nw; j < NR; j++)
                  for (int k = 0; k < K; k++) dst[NR * k + j] = 0;
              },
              emit);
          yOff += (i64)M * N;
        }
  return true;
}

// ---- CONV, direct: unit column stride, in doubles over a zero-padded copy of the input ---------
// Padding taps read 0 and add nothing to the exact sum, so no bounds checks in the inner loop; 8
// output columns × up to 6 output channels stay in registers over all C·kH·kW taps.
#if defined(__x86_64__)
/** V vectors (4·V output columns, V = 1 or 2) × R output channels, accumulated over every tap. */
template <int R, int V>
__attribute__((target("avx2,fma"))) void convBlock(const double* xp, i64 cStride, i64 rowStride, const double* w,
                                                   i64 K, int Cg, int kH, int kW, i64 dH, i64 dW, double* out) {
#define DECL(r) __m256d c##r##l = _mm256_setzero_pd(), c##r##h = _mm256_setzero_pd();
  ROWS(DECL)
#undef DECL
  int tap = 0;
  for (int c = 0; c < Cg; c++)
    for (int kh = 0; kh < kH; kh++) {
      const double* xr = xp + c * cStride + kh * dH * rowStride;
      for (int kw = 0; kw < kW; kw++, tap++) {
        const __m256d x0 = _mm256_loadu_pd(xr + kw * dW);
        const __m256d x1 = V > 1 ? _mm256_loadu_pd(xr + kw * dW + 4) : x0;
#define STEP(r)                                                  \
  if constexpr (R > r) {                                         \
    const __m256d wv = _mm256_broadcast_sd(w + r * K + tap);     \
    c##r##l = _mm256_fmadd_pd(wv, x0, c##r##l);                  \
    if constexpr (V > 1) c##r##h = _mm256_fmadd_pd(wv, x1, c##r##h); \
  }
        ROWS(STEP)
#undef STEP
      }
    }
#define OUT(r)                                                    \
  if constexpr (R > r) {                                          \
    _mm256_storeu_pd(out + 8 * r, c##r##l);                       \
    if constexpr (V > 1) _mm256_storeu_pd(out + 8 * r + 4, c##r##h); \
  }
  ROWS(OUT)
#undef OUT
}

template <int V>
void convBlocks(int R, const double* xp, i64 cStride, i64 rowStride, const double* w, i64 K, int Cg, int kH, int kW,
                i64 dH, i64 dW, double* out) {
  switch (R) {
    case 1: convBlock<1, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
    case 2: convBlock<2, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
    case 3: convBlock<3, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
    case 4: convBlock<4, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
    case 5: convBlock<5, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
    default: convBlock<6, V>(xp, cStride, rowStride, w, K, Cg, kH, kW, dH, dW, out); break;
  }
}

/** y[j] = sat(rshr(acc[j] + bias, 16)) for j < nw: every step exact in doubles below 2^53 (floor of
 * a power-of-two scaling, then a clamp to the i32 range, then an exact conversion). */
__attribute__((target("avx2,fma"))) inline void convEmit(const double* acc, double bias, i32* y, int nw) {
  const __m256d b = _mm256_set1_pd(bias + 32768.0), sc = _mm256_set1_pd(1.0 / 65536.0);
  const __m256d lo = _mm256_set1_pd(-2147483648.0), hi = _mm256_set1_pd(2147483647.0);
  alignas(32) i32 t[8];
  for (int h = 0; h < 2; h++) {
    __m256d v = _mm256_floor_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(acc + 4 * h), b), sc));
    v = _mm256_min_pd(_mm256_max_pd(v, lo), hi);
    if (nw == 8) _mm_storeu_si128((__m128i*)(y + 4 * h), _mm256_cvtpd_epi32(v));
    else _mm_store_si128((__m128i*)(t + 4 * h), _mm256_cvtpd_epi32(v));
  }
  if (nw < 8)
    for (int j = 0; j < nw; j++) y[j] = t[j];
}

/** Returns false (use the GEMM path) when the form or the exactness bound does not fit. */
__attribute__((noinline)) bool convDirect(i64 N, i64 C, i64 H, i64 W, i64 M, i64 OH, i64 OW, i64 kH, i64 kW, i64 sH, i64 sW, i64 pT, i64 pL,
                i64 dH, i64 dW, i64 group, const i32* xs, const i32* ws, const i32* bs, i32* ys) {
  if (!hasAvx2() || sW != 1) return false;
  const i64 Cg = C / group, Mg = M / group, kArea = kH * kW, K = Cg * kArea, gMax = (M - 1) / Mg;
  if (Cg == 0 || K > (i64)1 << 20) return false;
  const i64 OWp = (OW + 7) / 8 * 8;
  const i64 Wp = OWp + (kW - 1) * dW, Hp = (OH - 1) * sH + (kH - 1) * dH + 1;
  const i64 cStride = Hp * Wp;
  if (cStride * Cg > (i64)1 << 23) return false;  // keep the padded copy (doubles) ≤ 64 MiB
  const u64 maxX = maxAbs(xs, (size_t)(((N - 1) * C + gMax * Cg + Cg) * H * W));
  const u64 maxW = maxAbs(ws, (size_t)(M * K));
  // ≤ 2^52: then sum + bias·2^16 + 2^15 stays below 2^53 too, so the epilogue is exact in doubles.
  if ((unsigned __int128)(u64)K * maxX * maxW > ((unsigned __int128)1 << 52)) return false;
  Scratch& sc = scratch;
  sc.Ad.resize((size_t)(M * K) + 1);
  double* wd = sc.Ad.data();
  toDouble(ws, wd, (size_t)(M * K));
  sc.Bd.assign((size_t)(cStride * Cg) + 8, 0.0);
  double* xp = sc.Bd.data();
  alignas(32) double out[6 * 8];
  for (i64 n = 0; n < N; n++)
    for (i64 g = 0; g <= gMax; g++) {
      // The group's input channels, padded: row r is input row r − pT, column q is q − pL.
      const i32* xg = xs + (n * C + g * Cg) * H * W;
      for (i64 c = 0; c < Cg; c++)
        for (i64 r = 0; r < Hp; r++) {
          double* d = xp + c * cStride + r * Wp;
          const i64 ih = r - pT;
          if (ih < 0 || ih >= H) {
            std::memset(d, 0, sizeof(double) * Wp);
            continue;
          }
          const i32* srow = xg + (c * H + ih) * W;
          const i64 q0 = pL < 0 ? 0 : pL, q1 = pL + W < Wp ? pL + W : Wp;  // columns inside the plane
          for (i64 q = 0; q < q0 && q < Wp; q++) d[q] = 0.0;
          for (i64 q = q0; q < q1; q++) d[q] = (double)srow[q - pL];
          for (i64 q = q1 > q0 ? q1 : q0; q < Wp; q++) d[q] = 0.0;
        }
      const i64 m0 = g * Mg, m1 = m0 + Mg < M ? m0 + Mg : M;
      for (i64 mb = m0; mb < m1; mb += 6) {
        const int R = m1 - mb < 6 ? (int)(m1 - mb) : 6;
        const double* wb = wd + mb * K;
        for (i64 oh = 0; oh < OH; oh++)
          for (i64 ow = 0; ow < OW; ow += 8) {
            const double* x0 = xp + oh * sH * Wp + ow;
            const int nw = OW - ow < 8 ? (int)(OW - ow) : 8;
            if (nw > 4) convBlocks<2>(R, x0, cStride, Wp, wb, K, (int)Cg, (int)kH, (int)kW, dH, dW, out);
            else convBlocks<1>(R, x0, cStride, Wp, wb, K, (int)Cg, (int)kH, (int)kW, dH, dW, out);
            for (int r = 0; r < R; r++) {
              const i64 m = mb + r;
              i32* y = ys + ((n * M + m) * OH + oh) * OW + ow;
              convEmit(out + 8 * r, bs ? (double)bs[m] * ONE : 0.0, y, nw);
            }
          }
      }
    }
  return true;
}
#else
bool convDirect(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, const i32*,
                const i32*, const i32*, i32*) {
  return false;
}
#endif

// ---- CONV, CONV_Q8 (dnn/assembly/linalg.ts convT), as a GEMM over im2col panels ----------------
// Q8: int8 weights (bytes), each output channel's sum times its scale S[m], then + bias; the direct
// double-precision path is for Q16 weights only.
template <bool Q8>
__attribute__((noinline)) bool convT(Node& nd) {
  if (nd.nParams < 17 || nd.nIn < (Q8 ? 3 : 2) || nd.nOut < 1) return false;
  const i64 N = nd.prm(0), C = nd.prm(1), H = nd.prm(2), W = nd.prm(3), M = nd.prm(4), OH = nd.prm(5),
            OW = nd.prm(6), kH = nd.prm(7), kW = nd.prm(8), sH = nd.prm(9), sW = nd.prm(10), pT = nd.prm(11),
            pL = nd.prm(12), dH = nd.prm(13), dW = nd.prm(14), group = nd.prm(15);
  const bool hasBias = nd.prm(16) != 0;
  if (hasBias && nd.nIn < (Q8 ? 4 : 3)) return false;
  if (N <= 0 || M <= 0) return true;
  // Forms this port implements: positive sizes, strides and dilations, a group that divides M.
  if (C <= 0 || H <= 0 || W <= 0 || kH <= 0 || kW <= 0 || sH <= 0 || sW <= 0 || dH <= 0 || dW <= 0) return false;
  if (group <= 0 || M / group == 0 || OH < 0 || OW < 0) return false;
  const i64 Cg = C / group, Mg = M / group, kArea = kH * kW, plane = H * W, P = OH * OW;
  const i64 gMax = (M - 1) / Mg;
  const u32 X = nd.inPtr(0), Wt = nd.inPtr(1), S = Q8 ? nd.inPtr(2) : 0, Bs = hasBias ? nd.inPtr(Q8 ? 3 : 2) : 0,
            Y = nd.outPtr(0);
  if (P == 0) return true;
  if (Cg > 0) {
    if (!nd.span(X, 0, ((N - 1) * C + gMax * Cg + Cg) * plane - 1, false)) return false;
    if (!(Q8 ? nd.spanBytes(Wt, 0, M * Cg * kArea - 1) : nd.span(Wt, 0, M * Cg * kArea - 1, false))) return false;
  }
  if (Q8 && !nd.span(S, 0, M - 1, false)) return false;
  if (hasBias && !nd.span(Bs, 0, M - 1, false)) return false;
  const i64 total = N * M * P;
  if (total > (i64)1 << 32 || !nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  const i64 Kc = Cg * kArea;
  if (Kc > (i64)1 << 30) return false;
  const i32* xs = nd.at(X, 0);
  const i32* ws = Q8 ? nullptr : nd.at(Wt, 0);
  const int8_t* ws8 = Q8 ? nd.at8(Wt, 0) : nullptr;
  const i32* ss = Q8 ? nd.at(S, 0) : nullptr;
  const i32* bs = hasBias ? nd.at(Bs, 0) : nullptr;
  i32* ys = nd.at(Y, 0);
  if (!Q8 && convDirect(N, C, H, W, M, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, group, xs, ws, bs, ys)) return true;
  for (i64 n = 0; n < N; n++)
    for (i64 g = 0; g <= gMax; g++) {
      const i64 m0 = g * Mg, m1 = m0 + Mg < M ? m0 + Mg : M;
      const i32* xg = xs + (n * C + g * Cg) * plane;
      gemm<true>(  // the im2col packer leaves padding taps 0
          (int)(m1 - m0), (int)Kc, (int)P,
          [&](int m, i32* dst) {
            if (Q8)
              for (i64 k = 0; k < Kc; k++) dst[k] = ws8[(m0 + m) * Kc + k];
            else
              std::memcpy(dst, ws + (m0 + m) * Kc, 4 * (size_t)Kc);
          },
          [&](int p0, int pw, i32* dst) {
            for (int j = 0; j < pw; j++) {
              const i64 oh = (p0 + j) / OW, ow = (p0 + j) % OW;
              const i64 ih0 = oh * sH - pT, iw0 = ow * sW - pL;
              for (i64 c = 0; c < Cg; c++)
                for (i64 kh = 0; kh < kH; kh++) {
                  const i64 ih = ih0 + kh * dH;
                  i32* d = dst + NR * (c * kArea + kh * kW) + j;
                  if (ih < 0 || ih >= H) continue;  // stays 0: adds nothing to the exact sum
                  const i32* row = xg + c * plane + ih * W;
                  for (i64 kw = 0; kw < kW; kw++) {
                    const i64 iw = iw0 + kw * dW;
                    if (iw >= 0 && iw < W) d[NR * kw] = row[iw];
                  }
                }
            }
          },
          [&](int m, int p, i64 acc) {
            const i64 mm = m0 + m;
            const i64 bias = hasBias ? (i64)bs[mm] * ONE : 0;
            if (Q8) acc = (i64)((u64)acc * (u64)(i64)ss[mm]);
            ys[(n * M + mm) * P + p] = sat(rshr(acc + bias, FRAC));
          });
    }
  return true;
}

// ---- UNARY (the integer-only functions of dnn/assembly/elementwise.ts unaryOne) ---------------
enum {
  U_IDENTITY = 0, U_RELU = 1, U_LEAKY = 2, U_SIGMOID = 3, U_TANH = 4, U_EXP = 5, U_LOG = 6, U_ERF = 7,
  U_GELU = 8, U_GELU_TANH = 9, U_SQRT = 10, U_RECIP = 11, U_ROUND = 17, U_SOFTPLUS = 21, U_ELU = 23, U_SELU = 24, U_NEG = 12, U_ABS = 13, U_SIGN = 14,
  U_FLOOR = 15, U_CEIL = 16, U_CLIP = 18, U_HARDSIGMOID = 19, U_HARDSWISH = 20, U_SOFTSIGN = 22,
  U_Q2I = 25, U_I2Q = 26, U_NOT = 27
};

template <int FN>
inline i32 un(i32 x, i32 a, i32 b) {
  switch (FN) {
    case U_IDENTITY: return x;
    case U_RELU: return x > 0 ? x : 0;
    case U_LEAKY: return x < 0 ? mulq(x, a) : x;
    case U_SIGMOID: return sigmoidq(x);
    case U_TANH: return tanhq(x);
    case U_EXP: return expq(x);
    case U_LOG: return logq(x);
    case U_ERF: return erfq(x);
    case U_GELU: return geluq(x);
    case U_GELU_TANH: return geluTanhq(x);
    case U_SQRT: return sqrtq(x);
    case U_ROUND: return roundEvenq(x);
    case U_SOFTPLUS: return softplusq(x);
    case U_ELU: return x < 0 ? expm1Scaled(x, a) : x;
    case U_SELU: return x > 0 ? mulq(x, b) : mulq(expm1Scaled(x, a), b);
    case U_RECIP: return divq(ONE, x);
    case U_NEG: return sat(-(i64)x);
    case U_ABS: return sat(x < 0 ? -(i64)x : (i64)x);
    case U_SIGN: return x > 0 ? ONE : x < 0 ? -ONE : 0;
    case U_FLOOR: return x & ~(ONE - 1);
    case U_CEIL: return sat(-(-(i64)x & ~(i64)(ONE - 1)));
    case U_CLIP: return x < a ? a : x > b ? b : x;
    case U_HARDSIGMOID: {
      const i64 v = (i64)mulq(a, x) + (i64)b;
      return v < 0 ? 0 : v > ONE ? ONE : (i32)v;
    }
    case U_HARDSWISH: {
      const i64 v = (i64)mulq(a, x) + ONE / 2;
      return mulq(x, v < 0 ? 0 : v > ONE ? ONE : (i32)v);
    }
    case U_SOFTSIGN: {
      const i64 ax = x < 0 ? -(i64)x : (i64)x;
      return sat(((i64)x * ONE) / (ONE + ax));
    }
    case U_Q2I: return x >= 0 ? x >> 16 : -((-x) >> 16);
    case U_I2Q: return sat((i64)x * ONE);
    case U_NOT: return x == 0 ? 1 : 0;
  }
  return 0;
}

template <int FN>
void unLoop(const i32* x, i32* y, i64 n, i32 a, i32 b) {
  for (i64 i = 0; i < n; i++) y[i] = un<FN>(x[i], a, b);
}

__attribute__((noinline)) bool unary(Node& nd) {
  if (nd.nParams < 4 || nd.nIn < 1 || nd.nOut < 1) return false;
  const i32 fn = nd.prm(0), n = nd.prm(1), a = nd.prm(2), b = nd.prm(3);
  if (n < 0) return false;
  if (n == 0) return true;
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  if (!nd.span(X, 0, n - 1, false) || !nd.span(Y, 0, n - 1, true) || !nd.disjoint()) return false;
  const i32* x = nd.at(X, 0);
  i32* y = nd.at(Y, 0);
  switch (fn) {
#define U(F) \
  case F: unLoop<F>(x, y, n, a, b); return true;
    U(U_IDENTITY) U(U_RELU) U(U_LEAKY) U(U_SIGMOID) U(U_TANH) U(U_EXP) U(U_LOG) U(U_ERF) U(U_GELU)
    U(U_GELU_TANH) U(U_SQRT) U(U_ROUND) U(U_SOFTPLUS) U(U_ELU) U(U_SELU) U(U_RECIP) U(U_NEG) U(U_ABS) U(U_SIGN) U(U_FLOOR) U(U_CEIL)
    U(U_CLIP) U(U_HARDSIGMOID) U(U_HARDSWISH) U(U_SOFTSIGN) U(U_Q2I) U(U_I2Q) U(U_NOT)
#undef U
    default: return false;  // a function this port does not have: the reference module
  }
}

// ---- BINARY (dnn/assembly/elementwise.ts binaryOne; powq from nonlinear.ts) ---------------------
i32 powq(i32 a, i32 b) {
  if (b == 0) return ONE;
  if (b == ONE) return a;
  if (b == 2 * ONE) return mulq(a, a);
  if (b == ONE / 2) return sqrtq(a);
  if ((b & (ONE - 1)) == 0 && b <= 64 * ONE && b >= -64 * ONE) {
    i32 n = (b < 0 ? -b : b) >> FRAC;
    i32 base = a, acc = ONE;
    while (n != 0) {
      if (n & 1) acc = mulq(acc, base);
      n >>= 1;
      if (n != 0) base = mulq(base, base);
    }
    return b < 0 ? divq(ONE, acc) : acc;
  }
  if (a <= 0) return 0;
  const i64 bc = b > 256 * ONE ? 256 * ONE : b < -256 * ONE ? -256 * ONE : (i64)b;
  return sat(expQ30(rshr(logQ30((i64)a, FRAC) * bc, FRAC), FRAC));
}

/** Integer power with wrapping multiplication (elementwise.ts powInt). */
i32 powInt(i32 a, i32 b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0;
  u32 r = 1, base = (u32)a;
  i32 e = b;
  while (e != 0) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return (i32)r;
}

enum {
  B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_MIN = 5, B_MAX = 6, B_PRELU = 7, B_EQ = 8, B_LT = 9,
  B_GT = 10, B_LE = 11, B_GE = 12, B_ADD_INT = 13, B_SUB_INT = 14, B_MUL_INT = 15, B_AND = 16,
  B_OR = 17, B_XOR = 18, B_DIV_INT = 19, B_POW = 4, B_POW_INT = 20
};

template <int FN>
inline i32 bin(i32 a, i32 b) {
  switch (FN) {
    case B_ADD: return sat((i64)a + (i64)b);
    case B_SUB: return sat((i64)a - (i64)b);
    case B_MUL: return mulq(a, b);
    case B_DIV: return divq(a, b);
    case B_MIN: return a < b ? a : b;
    case B_MAX: return a > b ? a : b;
    case B_PRELU: return a < 0 ? mulq(a, b) : a;
    case B_EQ: return a == b ? 1 : 0;
    case B_LT: return a < b ? 1 : 0;
    case B_GT: return a > b ? 1 : 0;
    case B_LE: return a <= b ? 1 : 0;
    case B_GE: return a >= b ? 1 : 0;
    case B_ADD_INT: return (i32)((u32)a + (u32)b);
    case B_SUB_INT: return (i32)((u32)a - (u32)b);
    case B_MUL_INT: return (i32)((u32)a * (u32)b);
    case B_AND: return a != 0 && b != 0 ? 1 : 0;
    case B_OR: return a != 0 || b != 0 ? 1 : 0;
    case B_XOR: return (a != 0) != (b != 0) ? 1 : 0;
    case B_DIV_INT: return b == 0 ? 0 : a == (i32)0x80000000 && b == -1 ? a : a / b;
    case B_POW: return powq(a, b);
    case B_POW_INT: return powInt(a, b);
  }
  return 0;
}

template <int FN>
void binLoop(const i64* d, const i64* sa, const i64* sb, const i32* A, const i32* B, i32* y) {
  for (i64 i0 = 0; i0 < d[0]; i0++)
    for (i64 i1 = 0; i1 < d[1]; i1++)
      for (i64 i2 = 0; i2 < d[2]; i2++)
        for (i64 i3 = 0; i3 < d[3]; i3++)
          for (i64 i4 = 0; i4 < d[4]; i4++) {
            const i32* pa = A + (i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3] + i4 * sa[4]);
            const i32* pb = B + (i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3] + i4 * sb[4]);
            const i64 n = d[5], ta = sa[5], tb = sb[5];
            if (ta == 1 && tb == 1)
              for (i64 i = 0; i < n; i++) y[i] = bin<FN>(pa[i], pb[i]);
            else if (ta == 1 && tb == 0)
              for (i64 i = 0; i < n; i++) y[i] = bin<FN>(pa[i], pb[0]);
            else
              for (i64 i = 0; i < n; i++) y[i] = bin<FN>(pa[i * ta], pb[i * tb]);
            y += n;
          }
}

bool binary(Node& nd) {
  if (nd.nParams < 19 || nd.nIn < 2 || nd.nOut < 1) return false;
  const i32 fn = nd.prm(0);
  i64 d[6], sa[6], sb[6], total = 1;
  for (int i = 0; i < 6; i++) {
    d[i] = nd.prm(1 + i);
    sa[i] = nd.prm(7 + i);
    sb[i] = nd.prm(13 + i);
    if (d[i] <= 0) return true;
    total *= d[i];
    if (total > (i64)1 << 32) return false;
  }
  const u32 A = nd.inPtr(0), B = nd.inPtr(1), Y = nd.outPtr(0);
  i64 lo, hi;
  range(d, sa, 6, lo, hi);
  if (!nd.span(A, lo, hi, false)) return false;
  range(d, sb, 6, lo, hi);
  if (!nd.span(B, lo, hi, false)) return false;
  if (!nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  const i32* a = nd.at(A, 0);
  const i32* b = nd.at(B, 0);
  i32* y = nd.at(Y, 0);
  switch (fn) {
#define B(F) \
  case F: binLoop<F>(d, sa, sb, a, b, y); return true;
    B(B_ADD) B(B_SUB) B(B_MUL) B(B_DIV) B(B_MIN) B(B_MAX) B(B_PRELU) B(B_EQ) B(B_LT) B(B_GT) B(B_LE)
    B(B_GE) B(B_ADD_INT) B(B_SUB_INT) B(B_MUL_INT) B(B_AND) B(B_OR) B(B_XOR) B(B_DIV_INT) B(B_POW) B(B_POW_INT)
#undef B
    default: return false;
  }
}

// ---- POOL (dnn/assembly/pool.ts) ------------------------------------------------------------
__attribute__((noinline)) bool pool(Node& nd) {
  if (nd.nParams < 15 || nd.nIn < 1 || nd.nOut < 1) return false;
  const bool isAvg = nd.prm(0) == 1;
  const i64 NC = nd.prm(1), H = nd.prm(2), W = nd.prm(3), OH = nd.prm(4), OW = nd.prm(5), kH = nd.prm(6),
            kW = nd.prm(7), sH = nd.prm(8), sW = nd.prm(9), pT = nd.prm(10), pL = nd.prm(11), dH = nd.prm(12),
            dW = nd.prm(13);
  const bool includePad = nd.prm(14) != 0;
  if (NC <= 0 || OH <= 0 || OW <= 0) return true;
  if (H <= 0 || W <= 0 || kH < 0 || kW < 0) return false;
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  const i64 total = NC * OH * OW;
  if (total > (i64)1 << 32 || NC * H * W > (i64)1 << 32) return false;
  if (!nd.span(X, 0, NC * H * W - 1, false) || !nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  // The reference computes oh·sH − pT + kh·dH etc. in i32; refuse forms where that could wrap.
  const i64 lim = (i64)1 << 28;
  for (i64 v : {OH * sH, pT, kH * dH, OW * sW, pL, kW * dW})
    if (v > lim || v < -lim) return false;
  const i32* x = nd.at(X, 0);
  i32* y = nd.at(Y, 0);
  if (!isAvg && pT == 0 && pL == 0 && kH > 0 && kW > 0 && sH > 0 && sW > 0 && dH > 0 && dW > 0 &&
      (OH - 1) * sH + (kH - 1) * dH < H && (OW - 1) * sW + (kW - 1) * dW < W) {
    // Max pooling with every window inside the plane: the max over all taps, no bounds checks.
    if (kH == 2 && kW == 2 && dH == 1 && dW == 1) {
      for (i64 c = 0; c < NC; c++)
        for (i64 oh = 0; oh < OH; oh++) {
          const i32* r0 = x + c * H * W + oh * sH * W;
          const i32* r1 = r0 + W;
          for (i64 ow = 0; ow < OW; ow++) {
            const i64 q = ow * sW;
            const i32 a = r0[q] > r0[q + 1] ? r0[q] : r0[q + 1];
            const i32 b = r1[q] > r1[q + 1] ? r1[q] : r1[q + 1];
            *y++ = a > b ? a : b;
          }
        }
      return true;
    }
    for (i64 c = 0; c < NC; c++) {
      const i32* xc = x + c * H * W;
      for (i64 oh = 0; oh < OH; oh++)
        for (i64 ow = 0; ow < OW; ow++) {
          const i32* xw = xc + oh * sH * W + ow * sW;
          i32 mx = (i32)I32_MIN;
          for (i64 kh = 0; kh < kH; kh++)
            for (i64 kw = 0; kw < kW; kw++) {
              const i32 v = xw[kh * dH * W + kw * dW];
              mx = v > mx ? v : mx;
            }
          *y++ = mx;
        }
    }
    return true;
  }
  for (i64 c = 0; c < NC; c++) {
    const i32* xc = x + c * H * W;
    for (i64 oh = 0; oh < OH; oh++)
      for (i64 ow = 0; ow < OW; ow++) {
        i32 mx = (i32)I32_MIN;
        i64 sum = 0;
        i32 cnt = 0;
        for (i64 kh = 0; kh < kH; kh++) {
          const i64 ih = oh * sH - pT + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (i64 kw = 0; kw < kW; kw++) {
            const i64 iw = ow * sW - pL + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const i32 v = xc[ih * W + iw];
            if (v > mx) mx = v;
            sum += v;
            cnt++;
          }
        }
        if (isAvg) {
          const i32 div = includePad ? (i32)(kH * kW) : cnt;
          *y = div == 0 ? 0 : sat(divRound(sum, div));
        } else {
          *y = mx;
        }
        y++;
      }
  }
  return true;
}

// ---- COPY (dnn/assembly/copy.ts copy) ---------------------------------------------------------
__attribute__((noinline)) bool copy(Node& nd) {
  if (nd.nParams < 4 || nd.nOut < 1) return false;
  const bool fill = nd.prm(0) != 0;
  const i32 fillValue = nd.prm(1), fillCount = nd.prm(2), n = nd.prm(3);
  if (n < 0 || nd.nParams < 4 + (i64)n * COPY_WORDS) return false;
  if (fill) {
    if (fillCount < 0) return false;
    if (!nd.span(nd.outPtr(0), 0, (i64)fillCount - 1, true)) return false;
  }
  struct Cp {
    u32 src, dst;
    i64 d[6], s[6], t[6];
    bool empty;
  };
  std::vector<Cp> cps((size_t)n);
  for (i32 c = 0; c < n; c++) {
    const int p = 4 + c * COPY_WORDS;
    Cp& cp = cps[c];
    const i32 si = nd.prm(p), di = nd.prm(p + 1);
    if (si < 0 || si >= nd.nIn || di < 0 || di >= nd.nOut) return false;
    const i64 so = nd.prm(p + 8), dof = nd.prm(p + 15);
    cp.empty = false;
    for (int i = 0; i < 6; i++) {
      cp.d[i] = nd.prm(p + 2 + i);
      cp.s[i] = nd.prm(p + 9 + i);
      cp.t[i] = nd.prm(p + 16 + i);
      if (cp.d[i] <= 0) cp.empty = true;
    }
    if (cp.empty) continue;
    cp.src = nd.inPtr(si);
    cp.dst = nd.outPtr(di);
    i64 lo, hi;
    range(cp.d, cp.s, 6, lo, hi);
    if (!nd.span(cp.src, so + lo, so + hi, false)) return false;
    range(cp.d, cp.t, 6, lo, hi);
    if (!nd.span(cp.dst, dof + lo, dof + hi, true)) return false;
    cp.src += (u32)(4 * so);
    cp.dst += (u32)(4 * dof);
  }
  // Later copies may overwrite earlier ones (and the fill), in order, as in the reference; only
  // writes that overlap what is read are refused.
  if (!nd.disjoint()) return false;
  if (fill) {
    i32* y = nd.at(nd.outPtr(0), 0);
    for (i32 i = 0; i < fillCount; i++) y[i] = fillValue;
  }
  for (const Cp& cp : cps) {
    if (cp.empty) continue;
    const i32* src = nd.at(cp.src, 0);
    i32* dst = nd.at(cp.dst, 0);
    for (i64 i0 = 0; i0 < cp.d[0]; i0++)
      for (i64 i1 = 0; i1 < cp.d[1]; i1++)
        for (i64 i2 = 0; i2 < cp.d[2]; i2++)
          for (i64 i3 = 0; i3 < cp.d[3]; i3++)
            for (i64 i4 = 0; i4 < cp.d[4]; i4++) {
              const i32* ps = src + (i0 * cp.s[0] + i1 * cp.s[1] + i2 * cp.s[2] + i3 * cp.s[3] + i4 * cp.s[4]);
              i32* pd = dst + (i0 * cp.t[0] + i1 * cp.t[1] + i2 * cp.t[2] + i3 * cp.t[3] + i4 * cp.t[4]);
              const i64 n5 = cp.d[5], s5 = cp.s[5], t5 = cp.t[5];
              if (s5 == 1 && t5 == 1) std::memcpy(pd, ps, 4 * n5);
              else
                for (i64 i = 0; i < n5; i++) pd[i * t5] = ps[i * s5];
            }
  }
  return true;
}

// ---- SOFTMAX, LAYERNORM, CHANNEL_AFFINE (dnn/assembly/norm.ts) ---------------------------------
bool softmax(Node& nd) {
  if (nd.nParams < 4 || nd.nIn < 1 || nd.nOut < 1) return false;
  const i64 outer = nd.prm(0), axis = nd.prm(1), inner = nd.prm(2);
  const bool isLog = nd.prm(3) != 0;
  if (outer <= 0 || inner <= 0) return true;
  if (axis <= 0) return false;  // the reference still reads element 0 of each row
  const i64 total = outer * axis * inner;
  if (total > (i64)1 << 31) return false;
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  if (!nd.span(X, 0, total - 1, false) || !nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  const i32* x = nd.at(X, 0);
  i32* y = nd.at(Y, 0);
  for (i64 o = 0; o < outer; o++)
    for (i64 i = 0; i < inner; i++) {
      const i64 off = o * axis * inner + i;
      i32 mx = x[off];
      for (i64 j = 1; j < axis; j++) mx = x[off + j * inner] > mx ? x[off + j * inner] : mx;
      i64 sum = 0;
      for (i64 j = 0; j < axis; j++) {
        const i64 p = off + j * inner;
        const i64 e = expQ30(shl((i64)x[p] - (i64)mx, 14), 30);
        sum += e;
        if (!isLog) y[p] = (i32)e;
      }
      if (isLog) {
        const i64 lse = (i64)mx + rshr(logQ30(sum, 30), 14);
        for (i64 j = 0; j < axis; j++) y[off + j * inner] = sat((i64)x[off + j * inner] - lse);
      } else {
        for (i64 j = 0; j < axis; j++) y[off + j * inner] = sat(divRound(shl(y[off + j * inner], FRAC), sum));
      }
    }
  return true;
}

bool layernorm(Node& nd) {
  if (nd.nParams < 5 || nd.nIn < 1 || nd.nOut < 1) return false;
  const i64 outer = nd.prm(0), inner = nd.prm(1), eps = nd.prm(2);
  const bool hasScale = nd.prm(3) != 0, hasBias = nd.prm(4) != 0;
  const int nIn = 1 + (hasScale ? 1 : 0) + (hasBias ? 1 : 0);
  if (nd.nIn < nIn) return false;
  if (outer <= 0) return true;
  if (inner <= 0) return false;  // the reference divides by inner
  const i64 total = outer * inner;
  if (total > (i64)1 << 31) return false;
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  const u32 S = hasScale ? nd.inPtr(1) : 0, Bs = hasBias ? nd.inPtr(hasScale ? 2 : 1) : 0;
  if (!nd.span(X, 0, total - 1, false) || !nd.span(Y, 0, total - 1, true)) return false;
  if (hasScale && !nd.span(S, 0, inner - 1, false)) return false;
  if (hasBias && !nd.span(Bs, 0, inner - 1, false)) return false;
  if (nd.nOut > 1 && !nd.span(nd.outPtr(1), 0, outer - 1, true)) return false;
  if (nd.nOut > 2 && !nd.span(nd.outPtr(2), 0, outer - 1, true)) return false;
  if (!nd.disjoint()) return false;
  // The optional outputs must not overlap Y or each other either (the reference interleaves them).
  for (size_t a = 0; a < nd.writes.size(); a++)
    for (size_t b = a + 1; b < nd.writes.size(); b++)
      if (nd.writes[a].lo < nd.writes[b].hi && nd.writes[b].lo < nd.writes[a].hi) return false;
  const i32* x = nd.at(X, 0);
  i32* y = nd.at(Y, 0);
  const i32* sc = hasScale ? nd.at(S, 0) : nullptr;
  const i32* bi = hasBias ? nd.at(Bs, 0) : nullptr;
  i32* meanOut = nd.nOut > 1 ? nd.at(nd.outPtr(1), 0) : nullptr;
  i32* invOut = nd.nOut > 2 ? nd.at(nd.outPtr(2), 0) : nullptr;
  for (i64 o = 0; o < outer; o++) {
    const i32* row = x + o * inner;
    i32* yrow = y + o * inner;
    i64 s = 0;
    for (i64 j = 0; j < inner; j++) s += row[j];
    const i64 mean = divRound(s, inner);
    i64 ss = 0;
    for (i64 j = 0; j < inner; j++) {
      const i64 d = (i64)row[j] - mean;
      ss += d * d;
    }
    const i64 v = divRound(ss, inner) + eps;
    const bool hi = v >= ((i64)1 << 46);
    const i64 sd = hi ? (i64)isqrtRound((u64)v) : (i64)isqrtRound((u64)v << 16);
    const int sh = hi ? 16 : 24;
    if (meanOut) meanOut[o] = sat(mean);
    if (invOut) invOut[o] = sd == 0 ? 0x7fffffff : sat(divRound(shl(1, 16 + sh), sd));
    for (i64 j = 0; j < inner; j++) {
      const i64 d = (i64)row[j] - mean;
      i64 r = sd == 0 ? 0 : divRound(shl(d, sh), sd);
      if (sc) r = rshr(r * (i64)sc[j], FRAC);
      if (bi) r += (i64)bi[j];
      yrow[j] = sat(r);
    }
  }
  return true;
}

bool channelAffine(Node& nd) {
  if (nd.nParams < 3 || nd.nIn < 3 || nd.nOut < 1) return false;
  const i64 N = nd.prm(0), C = nd.prm(1), inner = nd.prm(2);
  if (N <= 0 || C <= 0 || inner <= 0) return true;
  const i64 total = N * C * inner;
  if (total > (i64)1 << 31) return false;
  const u32 X = nd.inPtr(0), S = nd.inPtr(1), Bs = nd.inPtr(2), Y = nd.outPtr(0);
  if (!nd.span(X, 0, total - 1, false) || !nd.span(S, 0, C - 1, false) || !nd.span(Bs, 0, C - 1, false) ||
      !nd.span(Y, 0, total - 1, true) || !nd.disjoint())
    return false;
  const i32* x = nd.at(X, 0);
  const i32* sc = nd.at(S, 0);
  const i32* bs = nd.at(Bs, 0);
  i32* y = nd.at(Y, 0);
  for (i64 n = 0; n < N; n++)
    for (i64 c = 0; c < C; c++) {
      const i64 a = sc[c], b = shl(bs[c], FRAC);
      for (i64 i = 0; i < inner; i++, x++, y++) *y = sat(rshr((i64)*x * a + b, FRAC));
    }
  return true;
}

// ---- WHERE, GATHER (dnn/assembly/elementwise.ts where, copy.ts gather) ---------------------------
bool where(Node& nd) {
  if (nd.nParams < 24 || nd.nIn < 3 || nd.nOut < 1) return false;
  i64 d[6], sc[6], sx[6], sy[6], total = 1;
  for (int i = 0; i < 6; i++) {
    d[i] = nd.prm(i);
    sc[i] = nd.prm(6 + i);
    sx[i] = nd.prm(12 + i);
    sy[i] = nd.prm(18 + i);
    if (d[i] <= 0) return true;
    total *= d[i];
    if (total > (i64)1 << 32) return false;
  }
  const u32 C = nd.inPtr(0), X = nd.inPtr(1), Yin = nd.inPtr(2), Y = nd.outPtr(0);
  i64 lo, hi;
  range(d, sc, 6, lo, hi);
  if (!nd.span(C, lo, hi, false)) return false;
  range(d, sx, 6, lo, hi);
  if (!nd.span(X, lo, hi, false)) return false;
  range(d, sy, 6, lo, hi);
  if (!nd.span(Yin, lo, hi, false)) return false;
  if (!nd.span(Y, 0, total - 1, true) || !nd.disjoint()) return false;
  const i32* c = nd.at(C, 0);
  const i32* x = nd.at(X, 0);
  const i32* yi = nd.at(Yin, 0);
  i32* out = nd.at(Y, 0);
  for (i64 i0 = 0; i0 < d[0]; i0++)
    for (i64 i1 = 0; i1 < d[1]; i1++)
      for (i64 i2 = 0; i2 < d[2]; i2++)
        for (i64 i3 = 0; i3 < d[3]; i3++)
          for (i64 i4 = 0; i4 < d[4]; i4++) {
            const i64 oc = i0 * sc[0] + i1 * sc[1] + i2 * sc[2] + i3 * sc[3] + i4 * sc[4];
            const i64 ox = i0 * sx[0] + i1 * sx[1] + i2 * sx[2] + i3 * sx[3] + i4 * sx[4];
            const i64 oy = i0 * sy[0] + i1 * sy[1] + i2 * sy[2] + i3 * sy[3] + i4 * sy[4];
            for (i64 i5 = 0; i5 < d[5]; i5++)
              *out++ = c[oc + i5 * sc[5]] != 0 ? x[ox + i5 * sx[5]] : yi[oy + i5 * sy[5]];
          }
  return true;
}

bool gather(Node& nd) {
  if (nd.nParams < 4 || nd.nIn < 2 || nd.nOut < 1) return false;
  const i64 outer = nd.prm(0), axisDim = nd.prm(1), inner = nd.prm(2), nIdx = nd.prm(3);
  if (outer <= 0 || nIdx <= 0) return true;
  if (inner < 0 || axisDim <= 0) return false;
  const u32 D = nd.inPtr(0), I = nd.inPtr(1), Y = nd.outPtr(0);
  if (!nd.span(I, 0, nIdx - 1, false)) return false;
  const i32* idx = nd.at(I, 0);
  // Any index out of range: the reference returns its error code (after writing the rows before it).
  for (i64 t = 0; t < nIdx; t++) {
    const i64 k = idx[t] < 0 ? (i64)idx[t] + axisDim : idx[t];
    if (k < 0 || k >= axisDim) return false;
  }
  if (inner == 0) return true;
  if (outer * axisDim * inner > (i64)1 << 31 || outer * nIdx * inner > (i64)1 << 31) return false;
  if (!nd.span(D, 0, outer * axisDim * inner - 1, false) || !nd.span(Y, 0, outer * nIdx * inner - 1, true) ||
      !nd.disjoint())
    return false;
  const i32* d = nd.at(D, 0);
  i32* y = nd.at(Y, 0);
  for (i64 o = 0; o < outer; o++)
    for (i64 t = 0; t < nIdx; t++) {
      const i64 k = idx[t] < 0 ? (i64)idx[t] + axisDim : idx[t];
      std::memcpy(y + (o * nIdx + t) * inner, d + (o * axisDim + k) * inner, 4 * (size_t)inner);
    }
  return true;
}

// ---- REDUCE, ARGMAX (dnn/assembly/reduce.ts) ---------------------------------------------------
enum { R_SUM = 0, R_MEAN = 1, R_MAX = 2, R_MIN = 3, R_PROD = 4, R_L1 = 5, R_L2 = 6, R_SUMSQUARE = 7, R_LOGSUMEXP = 8, R_LOGSUM = 9 };

bool reduce(Node& nd) {
  if (nd.nParams < 4 || nd.nIn < 1 || nd.nOut < 1) return false;
  const i32 fn = nd.prm(0);
  const i64 outer = nd.prm(1), red = nd.prm(2), inner = nd.prm(3);
  if (outer <= 0 || inner <= 0) return true;
  if (red < 0 || outer * (red > 0 ? red : 1) * inner > (i64)1 << 31) return false;
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  if (red > 0 && !nd.span(X, 0, outer * red * inner - 1, false)) return false;
  if (!nd.span(Y, 0, outer * inner - 1, true) || !nd.disjoint()) return false;
  const i32* x = red > 0 ? nd.at(X, 0) : nullptr;
  i32* y = nd.at(Y, 0);
  for (i64 o = 0; o < outer; o++)
    for (i64 i = 0; i < inner; i++) {
      const i32* b = red > 0 ? x + o * red * inner + i : nullptr;
      i64 acc = 0;
      i32 r = 0;
      if (fn == R_MAX || fn == R_MIN || fn == R_LOGSUMEXP) {
        i32 m = fn == R_MIN ? (i32)I32_MAX : (i32)I32_MIN;
        for (i64 j = 0; j < red; j++) {
          const i32 v = b[j * inner];
          if (fn == R_MIN ? v < m : v > m) m = v;
        }
        if (fn != R_LOGSUMEXP) r = m;
        else {
          for (i64 j = 0; j < red; j++) acc += expQ30(shl((i64)b[j * inner] - (i64)m, 14), 30);
          r = sat((i64)m + rshr(logQ30(acc, 30), 14));
        }
      } else if (fn == R_PROD) {
        r = ONE;
        for (i64 j = 0; j < red; j++) r = mulq(r, b[j * inner]);
      } else {
        for (i64 j = 0; j < red; j++) {
          const i64 v = b[j * inner];
          if (fn == R_L1) acc += v < 0 ? -v : v;
          else if (fn == R_L2 || fn == R_SUMSQUARE) acc += v * v;
          else acc += v;
        }
        if (fn == R_MEAN) r = red == 0 ? 0 : sat(divRound(acc, red));
        else if (fn == R_SUMSQUARE) r = sat(rshr(acc, FRAC));
        else if (fn == R_L2) r = sat((i64)isqrtRound((u64)acc));
        else if (fn == R_LOGSUM) r = logq(sat(acc));
        else r = sat(acc);
      }
      *y++ = r;
    }
  return true;
}

bool argmax(Node& nd) {
  if (nd.nParams < 5 || nd.nIn < 1 || nd.nOut < 1) return false;
  const i64 outer = nd.prm(0), axis = nd.prm(1), inner = nd.prm(2);
  const bool isMin = nd.prm(3) != 0, last = nd.prm(4) != 0;
  if (outer <= 0 || inner <= 0) return true;
  if (axis <= 0 || outer * axis * inner > (i64)1 << 31) return false;  // the reference reads x[i] still
  const u32 X = nd.inPtr(0), Y = nd.outPtr(0);
  if (!nd.span(X, 0, outer * axis * inner - 1, false) || !nd.span(Y, 0, outer * inner - 1, true) ||
      !nd.disjoint())
    return false;
  const i32* x = nd.at(X, 0);
  i32* y = nd.at(Y, 0);
  for (i64 o = 0; o < outer; o++)
    for (i64 i = 0; i < inner; i++) {
      const i32* b = x + o * axis * inner + i;
      i32 best = b[0], bi = 0;
      for (i64 j = 1; j < axis; j++) {
        const i32 v = b[j * inner];
        const bool better = isMin ? (last ? v <= best : v < best) : last ? v >= best : v > best;
        if (better) {
          best = v;
          bi = (i32)j;
        }
      }
      *y++ = bi;
    }
  return true;
}

/** Runs the node at byte offset p if this port implements its form; false: run the reference. */
bool execNode(Mem mem, u32 p) {
  Node nd(mem, p);
  if (!nd.ok) return false;
  switch (nd.op()) {
    case OP_MATMUL: return matmulT<false>(nd);
    case OP_CONV: return convT<false>(nd);
    case OP_MATMUL_Q8: return matmulT<true>(nd);
    case OP_CONV_Q8: return convT<true>(nd);
    case OP_UNARY: return unary(nd);
    case OP_BINARY: return binary(nd);
    case OP_POOL: return pool(nd);
    case OP_COPY: return copy(nd);
    case OP_SOFTMAX: return softmax(nd);
    case OP_LAYERNORM: return layernorm(nd);
    case OP_CHANNEL_AFFINE: return channelAffine(nd);
    case OP_WHERE: return where(nd);
    case OP_GATHER: return gather(nd);
    case OP_REDUCE: return reduce(nd);
    case OP_ARGMAX: return argmax(nd);
    default: return false;
  }
}

// ---- N-API -----------------------------------------------------------------------------------
napi_value fail(napi_env env, const char* msg) {
  napi_throw_type_error(env, nullptr, msg);
  return nullptr;
}

/** run(memory: ArrayBuffer, ptrs: Int32Array, from: number, to: number) → index of the first node
 * in [from, to) it did not run (to when it ran them all). */
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 4) return fail(env, "run(memory, ptrs, from, to)");
  void* data = nullptr;
  size_t len = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) return fail(env, "memory: ArrayBuffer");
  napi_typedarray_type tt;
  size_t n = 0;
  void* pd = nullptr;
  if (napi_get_typedarray_info(env, argv[1], &tt, &n, &pd, nullptr, nullptr) != napi_ok || tt != napi_int32_array)
    return fail(env, "ptrs: Int32Array");
  int32_t from = 0, to = 0;
  napi_get_value_int32(env, argv[2], &from);
  napi_get_value_int32(env, argv[3], &to);
  if (to > (int32_t)n) to = (int32_t)n;
  const Mem mem{(uint8_t*)data, (u64)len};
  const int32_t* ptrs = (const int32_t*)pd;
  int32_t k = from < 0 ? 0 : from;
  // Scratch allocation can fail (std::bad_alloc); the node is then declined to the reference, which
  // writes every output itself, so a half-done native attempt leaves nothing behind.
  try {
    while (k < to && execNode(mem, (u32)ptrs[k])) k++;
  } catch (...) {
  }
  napi_value r;
  napi_create_int32(env, k, &r);
  return r;
}

napi_value Features(napi_env env, napi_callback_info) {
  napi_value r;
  const char* s = hasAvx2() ? "avx2+fma" : "scalar";
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "run", NAPI_AUTO_LENGTH, Run, nullptr, &f);
  napi_set_named_property(env, exports, "run", f);
  napi_create_function(env, "features", NAPI_AUTO_LENGTH, Features, nullptr, &f);
  napi_set_named_property(env, exports, "features", f);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
