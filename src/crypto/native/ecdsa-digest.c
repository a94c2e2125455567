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
 */
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

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "verify", NAPI_AUTO_LENGTH, verify, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "verify", fn) != napi_ok) return NULL;
  return exports;
}
