/* What OpenSSL itself keeps on the heap, by allocation site: a preloaded
 * library that installs counting allocators (CRYPTO_set_mem_functions) before
 * anything is allocated, and writes the live bytes and block count of every
 * OpenSSL source line that has blocks alive when the process gets SIGUSR2.
 * OpenSSL passes each allocation's file and line, so no debug symbols are
 * needed. Used for BENCHMARKS.md 10.1 (idle TLS connections):
 *
 *   LD_PRELOAD=build/bench/libdaheim-openssl-heap.so \
 *     DAHEIM_OPENSSL_HEAP_OUT=/tmp/ossl.txt build/core/app/daheim-live-test ...
 *   kill -USR2 <pid>     # then: sort -rn /tmp/ossl.txt | head
 *
 * One line per site: "<live bytes> <live blocks> <file>:<line>". A per-connection
 * structure shows as a site whose block count is the connection count. The
 * counts are not thread-safe: for a single-threaded server such as ours. */
#include <openssl/crypto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kSites = 4096 };

struct site {
  const char* file;
  int line;
  long live;
  long blocks;
};

struct header {
  size_t size;
  size_t site;
};

static struct site sites[kSites];

static size_t site_of(const char* file, int line) {
  uintptr_t h = ((uintptr_t)file * 31u + (unsigned)line) % kSites;
  for (size_t i = 0; i < kSites; ++i) {
    size_t k = (h + i) % kSites;
    if (sites[k].file == file && sites[k].line == line) return k;
    if (sites[k].file == NULL) {
      sites[k].file = file;
      sites[k].line = line;
      return k;
    }
  }
  return 0; /* table full: counted under the first site */
}

static void* count_malloc(size_t n, const char* file, int line) {
  struct header* h = malloc(sizeof *h + n);
  if (h == NULL) return NULL;
  h->size = n;
  h->site = site_of(file ? file : "?", line);
  sites[h->site].live += (long)n;
  sites[h->site].blocks++;
  return h + 1;
}

static void count_free(void* p, const char* file, int line) {
  (void)file;
  (void)line;
  if (p == NULL) return;
  struct header* h = (struct header*)p - 1;
  sites[h->site].live -= (long)h->size;
  sites[h->site].blocks--;
  free(h);
}

static void* count_realloc(void* p, size_t n, const char* file, int line) {
  if (p == NULL) return count_malloc(n, file, line);
  if (n == 0) {
    count_free(p, file, line);
    return NULL;
  }
  void* q = count_malloc(n, file, line);
  if (q == NULL) return NULL;
  size_t old = ((struct header*)p - 1)->size;
  memcpy(q, p, old < n ? old : n);
  count_free(p, file, line);
  return q;
}

static void dump(int sig) {
  (void)sig;
  const char* path = getenv("DAHEIM_OPENSSL_HEAP_OUT");
  FILE* out = fopen(path ? path : "openssl-heap.txt", "w");
  if (out == NULL) return;
  for (size_t i = 0; i < kSites; ++i)
    if (sites[i].file != NULL && sites[i].blocks != 0)
      fprintf(out, "%ld %ld %s:%d\n", sites[i].live, sites[i].blocks, sites[i].file, sites[i].line);
  fclose(out);
}

__attribute__((constructor)) static void install(void) {
  if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
    fputs("openssl_heap: OpenSSL allocated before the preload; nothing is counted\n", stderr);
  signal(SIGUSR2, dump);
}
