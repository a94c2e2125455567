/*
 * ECDSA verification of a signature over a digest the caller already has, by OpenSSL (SEC 1 §4.1.4 /
 * FIPS 186-5 §6.4.2). node:crypto only verifies over a message it hashes itself, but a hashedrekord entry carries
 * only the artifact's digest; this is the one function node lacks. It runs in-process against the OpenSSL that
 * node itself exports (the headers ship in node's include/node/openssl), so it adds no library of its own.
 * JavaScript side and the pure-JS fallback: ../ecdsa-digest.ts.
 *
 * verify(curve, point, digest, signature) -> boolean
 *   curve:     1 = P-256, 2 = P-384
 *   point:     SEC 1 encoded public key (checked to be on the curve)
 *   digest:    the message digest (truncated to the order's bit length, as the standard says)
 *   signature: DER ECDSA-Sig-Value; anything but its one strict DER encoding is refused
 *
 * Signing over a digest (FIPS 186-5 §6.4.1), for the CA's and the logs' own keys: node:crypto's sign() sets up
 * a fresh key context, digest context and signature context for every call, which costs about as much as the
 * scalar multiplication itself on P-256; here the key is made once and a signature is one ECDSA_do_sign.
 *
 * signingKey(curve, scalar) -> opaque key handle (throws on a scalar that is not a private key of the curve)
 *   scalar:    the private key d, big-endian, exactly the curve's size (32 / 48 bytes), 1 <= d < n
 * sign(key, digest) -> Uint8Array, DER ECDSA-Sig-Value (random k from OpenSSL's DRBG)
 */
#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <string.h>

/* Group objects are immutable once made, so one per curve is shared by every thread that loads the addon. */
static EC_GROUP *groups[3];

static EC_GROUP *group_for(int curve) {
  if (curve < 1 || curve > 2) return NULL;
  if (!groups[curve]) {
    EC_GROUP *g = EC_GROUP_new_by_curve_name(curve == 1 ? NID_X9_62_prime256v1 : NID_secp384r1);
    if (!g) return NULL;
    if (!__sync_bool_compare_and_swap(&groups[curve], NULL, g)) EC_GROUP_free(g);
  }
  return groups[curve];
}

static int verify_digest(int curve, const unsigned char *point, size_t point_len, const unsigned char *digest,
                         size_t digest_len, const unsigned char *sig, size_t sig_len) {
  EC_GROUP *group = group_for(curve);
  if (!group || sig_len == 0 || sig_len > 1024 || digest_len > 1024) return 0;
  int ok = 0;
  EC_KEY *key = EC_KEY_new();
  EC_POINT *q = EC_POINT_new(group);
  ECDSA_SIG *s = NULL;
  unsigned char *der = NULL;
  if (!key || !q || EC_KEY_set_group(key, group) != 1) goto done;
  /* oct2point refuses points that are not on the curve; the point at infinity is refused by set_public_key's
     check below. */
  if (EC_POINT_oct2point(group, q, point, point_len, NULL) != 1) goto done;
  if (EC_POINT_is_at_infinity(group, q)) goto done;
  if (EC_KEY_set_public_key(key, q) != 1) goto done;
  const unsigned char *p = sig;
  s = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
  if (!s || p != sig + sig_len) goto done;
  /* Strict DER: the signature must be exactly the canonical encoding of the (r, s) it decodes to. */
  int der_len = i2d_ECDSA_SIG(s, &der);
  if (der_len != (int)sig_len || memcmp(der, sig, sig_len) != 0) goto done;
  ok = ECDSA_do_verify(digest, (int)digest_len, s, key) == 1;
done:
  /* A refused point or signature leaves errors on this thread's OpenSSL queue; node:crypto reads that queue after
     its own calls, so it must not see ours. */
  ERR_clear_error();
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  EC_POINT_free(q);
  EC_KEY_free(key);
  return ok;
}

/* Marks the handles signingKey makes, so that sign() never takes another addon's external for an EC_KEY. */
static const napi_type_tag KEY_TAG = {0x7369676c5f656364ULL, 0x73615f6b65790001ULL};

static EC_KEY *private_key(int curve, const unsigned char *scalar, size_t len) {
  EC_GROUP *group = group_for(curve);
  if (!group || len != (curve == 1 ? 32u : 48u)) return NULL;
  EC_KEY *key = EC_KEY_new();
  BIGNUM *d = BN_bin2bn(scalar, (int)len, NULL);
  EC_POINT *q = EC_POINT_new(group);
  int ok = key && d && q && EC_KEY_set_group(key, group) == 1;
  /* 1 <= d < n: anything else is not a private key of this curve. */
  ok = ok && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(group)) < 0;
  ok = ok && EC_KEY_set_private_key(key, d) == 1;
  /* The public key too: some OpenSSL builds' sign paths expect it, and EC_KEY_check_key then checks the pair. */
  ok = ok && EC_POINT_mul(group, q, d, NULL, NULL, NULL) == 1 && EC_KEY_set_public_key(key, q) == 1;
  ok = ok && EC_KEY_check_key(key) == 1;
  BN_clear_free(d);
  EC_POINT_free(q);
  ERR_clear_error();
  if (!ok) {
    EC_KEY_free(key);
    return NULL;
  }
  return key;
}

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EC_KEY_free((EC_KEY *)data);
}

static int bytes_of(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, data, &buffer, &offset) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) {
    napi_throw_type_error(env, NULL, "verify(curve, point, digest, signature) takes four arguments");
    return NULL;
  }
  int32_t curve = 0;
  void *point, *digest, *sig;
  size_t point_len, digest_len, sig_len;
  if (napi_get_value_int32(env, argv[0], &curve) != napi_ok || !bytes_of(env, argv[1], &point, &point_len) ||
      !bytes_of(env, argv[2], &digest, &digest_len) || !bytes_of(env, argv[3], &sig, &sig_len)) {
    napi_throw_type_error(env, NULL, "verify takes a curve number and three Uint8Arrays");
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, verify_digest(curve, point, point_len, digest, digest_len, sig, sig_len), &result);
  return result;
}

static napi_value signing_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t curve = 0;
  void *scalar;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], &curve) != napi_ok || !bytes_of(env, argv[1], &scalar, &len)) {
    napi_throw_type_error(env, NULL, "signingKey takes a curve number and a Uint8Array");
    return NULL;
  }
  EC_KEY *key = private_key(curve, scalar, len);
  if (!key) {
    napi_throw_range_error(env, NULL, "not a private key of that curve (1 = P-256: 32 bytes, 2 = P-384: 48 bytes)");
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, key, free_key, NULL, &handle) != napi_ok) {
    EC_KEY_free(key);
    napi_throw_error(env, NULL, "could not make a key handle");
    return NULL;
  }
  napi_type_tag_object(env, handle, &KEY_TAG);
  return handle;
}

static napi_value sign(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool tagged = false;
  EC_KEY *key = NULL;
  void *digest;
  size_t digest_len;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, argv[0], &KEY_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], (void **)&key) != napi_ok ||
      !bytes_of(env, argv[1], &digest, &digest_len)) {
    napi_throw_type_error(env, NULL, "sign takes a key from signingKey and a Uint8Array digest");
    return NULL;
  }
  if (digest_len == 0 || digest_len > 64) {
    napi_throw_range_error(env, NULL, "the digest must be 1 to 64 bytes");
    return NULL;
  }
  ECDSA_SIG *s = ECDSA_do_sign(digest, (int)digest_len, key);
  unsigned char *der = NULL;
  int der_len = s ? i2d_ECDSA_SIG(s, &der) : -1;
  ECDSA_SIG_free(s);
  ERR_clear_error();
  napi_value result = NULL;
  void *out;
  if (der_len <= 0) {
    napi_throw_error(env, NULL, "ECDSA signing failed");
  } else if (napi_create_buffer_copy(env, (size_t)der_len, der, &out, &result) != napi_ok) {
    result = NULL;
  }
  OPENSSL_free(der);
  return result;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"verify", verify}, {"signingKey", signing_key}, {"sign", sign}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
