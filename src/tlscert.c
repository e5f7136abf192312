/*
 * tlscert.c: certificates in words (see tlscert.h). No Lua.
 */
#define _GNU_SOURCE
#include "tlscert.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

/* Append s to buf (size), keeping it NUL-terminated. */
static void append(char *buf, size_t size, const char *s) {
  size_t used = strlen(buf);
  if (used + 1 < size) snprintf(buf + used, size - used, "%s", s);
}

char *tlscert_name(const X509_NAME *n, char *buf, size_t size) {
  int count = n ? X509_NAME_entry_count(n) : 0;
  buf[0] = '\0';
  for (int i = count - 1; i >= 0; i--) {
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    unsigned char *v = NULL;
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : "?";
    if (ASN1_STRING_to_UTF8(&v, X509_NAME_ENTRY_get_data(e)) < 0) continue;
    if (buf[0]) append(buf, size, ", ");
    append(buf, size, sn);
    append(buf, size, "=");
    append(buf, size, (const char *)v);
    OPENSSL_free(v);
  }
  return buf;
}

void tlscert_eachname(X509 *x, void (*f)(void *ud, const char *name), void *ud) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    char s[INET6_ADDRSTRLEN + 1];
    if (g->type == GEN_DNS) {
      const ASN1_STRING *d = g->d.dNSName;
      size_t len = (size_t)ASN1_STRING_length(d);
      char name[256];
      if (len >= sizeof name) len = sizeof name - 1;
      memcpy(name, ASN1_STRING_get0_data(d), len);
      name[len] = '\0';
      f(ud, name);
    } else if (g->type == GEN_IPADD) {
      int len = ASN1_STRING_length(g->d.iPAddress);
      const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
      if ((len == 4 && inet_ntop(AF_INET, p, s, sizeof s)) || (len == 16 && inet_ntop(AF_INET6, p, s, sizeof s)))
        f(ud, s);
    }
  }
  GENERAL_NAMES_free(gens);
}

/* tlscert_names' collector. */
typedef struct namebuf { char *buf; size_t size; } namebuf;
static void addname(void *ud, const char *name) {
  namebuf *nb = ud;
  if (nb->buf[0]) append(nb->buf, nb->size, ", ");
  append(nb->buf, nb->size, name);
}

char *tlscert_names(X509 *x, char *buf, size_t size) {
  namebuf nb = {buf, size};
  buf[0] = '\0';
  tlscert_eachname(x, addname, &nb);
  if (buf[0] == '\0') {
    const X509_NAME *n = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
    unsigned char *v = NULL;
    if (i >= 0 && ASN1_STRING_to_UTF8(&v, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i))) >= 0) {
      append(buf, size, (const char *)v);
      OPENSSL_free(v);
    }
  }
  if (buf[0] == '\0') append(buf, size, "no name");
  return buf;
}

char *tlscert_time(const ASN1_TIME *t, char *buf, size_t size) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) snprintf(buf, size, "?");
  else strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

int tlscert_daysleft(const ASN1_TIME *t) {
  int days = 0, secs = 0;
  if (t == NULL || ASN1_TIME_diff(&days, &secs, NULL, t) != 1) return 0;
  return days;
}

char *tlscert_serial(X509 *x, char *buf, size_t size) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  snprintf(buf, size, "%s", hex ? hex : "?");
  OPENSSL_free(hex);
  BN_free(bn);
  return buf;
}

char *tlscert_sha256(X509 *x, char *buf, size_t size) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  buf[0] = '\0';
  if (X509_digest(x, EVP_sha256(), md, &n) != 1) return buf;
  for (unsigned int i = 0; i < n && 3 * i + 3 <= size; i++)
    snprintf(buf + 3 * i, size - 3 * i, i + 1 < n ? "%02X:" : "%02X", md[i]);
  return buf;
}
