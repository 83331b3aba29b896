/*
 * A thin N-API binding to OpenBLAS's cblas_sgemm, for the LLM trainer's matrix products.
 *
 * Why: tfjs's WASM backend multiplies at ~27 GFLOP/s per thread here; OpenBLAS reaches ~100 on the same core.
 * The kernel (src-main/engine/llm/native-gemm.ts) hands this function views of the WASM heap, so no tensor is
 * copied: OpenBLAS reads the operands and writes the product where tfjs keeps them.
 *
 * Only N-API is used, so one build loads in Node 22+, its worker threads and Electron.
 */
#include <cblas.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* OpenBLAS exports these beside the CBLAS interface (not every cblas.h declares them). */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                                 \
  do {                                                                              \
    if ((call) != napi_ok) {                                                        \
      napi_throw_error(env, NULL, "dpo_gemm: N-API call failed: " #call);           \
      return NULL;                                                                  \
    }                                                                               \
  } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *length, const char *name) {
  napi_typedarray_type type;
  size_t len;
  void *ptr;
  napi_value buf;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &buf, &offset) != napi_ok || type != napi_float32_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "dpo_gemm: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = (float *)ptr;
  *length = len;
  return 1;
}

static int get_i64(napi_env env, napi_value v, int64_t *out, const char *name) {
  if (napi_get_value_int64(env, v, out) != napi_ok || *out < 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "dpo_gemm: %s must be a whole number >= 0", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* Last element a strided batch of matrices touches, plus one; 0 when there is nothing. */
static int64_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t cols) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return (batch - 1) * stride + rows * cols;
}

/*
 * sgemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC)
 * For each i < batch: C_i (m×n) = op(A_i) · op(B_i), row-major, A_i = a[i·strideA…], op(A_i) m×k, op(B_i) k×n.
 * A stride of 0 reuses one matrix for the whole batch (broadcast).
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "dpo_gemm: sgemm takes 12 arguments");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  int64_t batch, m, n, k, sa, sb, sc;
  bool ta, tb;
  if (!get_f32(env, argv[0], &a, &la, "a") || !get_f32(env, argv[1], &b, &lb, "b") || !get_f32(env, argv[2], &c, &lc, "c")) return NULL;
  if (!get_i64(env, argv[3], &batch, "batch") || !get_i64(env, argv[4], &m, "m") || !get_i64(env, argv[5], &n, "n") ||
      !get_i64(env, argv[6], &k, "k") || !get_i64(env, argv[9], &sa, "strideA") || !get_i64(env, argv[10], &sb, "strideB") ||
      !get_i64(env, argv[11], &sc, "strideC"))
    return NULL;
  CHECK(napi_get_value_bool(env, argv[7], &ta));
  CHECK(napi_get_value_bool(env, argv[8], &tb));
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "dpo_gemm: a matrix side exceeds 2^31");
    return NULL;
  }
  /* Never read or write past the arrays, whatever the caller says. */
  if (extent(batch, sa, m, k) > (int64_t)la || extent(batch, sb, k, n) > (int64_t)lb || extent(batch, sc, m, n) > (int64_t)lc) {
    napi_throw_range_error(env, NULL, "dpo_gemm: the shapes and strides reach past an array's end");
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + i * sc;
    if (k == 0) {
      memset(ci, 0, sizeof(float) * (size_t)(m * n));
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                a + i * sa, ta ? (int)m : (int)k, b + i * sb, tb ? (int)k : (int)n, 0.0f, ci, (int)n);
  }
  return NULL;
}

/* threads(n?): sets OpenBLAS's thread count when n is given; returns the count in force. */
static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) {
    int32_t want;
    if (napi_get_value_int32(env, argv[0], &want) != napi_ok || want < 1) {
      napi_throw_type_error(env, NULL, "dpo_gemm: threads(n) takes a whole number >= 1");
      return NULL;
    }
    openblas_set_num_threads(want);
  }
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

/* describe(): OpenBLAS's kernel family for this CPU and its build configuration. */
static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, core, config;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(napi_set_named_property(env, out, "core", core));
  CHECK(napi_set_named_property(env, out, "config", config));
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, sgemm, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sgemm", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "threads", NAPI_AUTO_LENGTH, threads, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "threads", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "describe", NAPI_AUTO_LENGTH, describe, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "describe", fn) != napi_ok) return NULL;
  return exports;
}
