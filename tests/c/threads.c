/* threads: a small C program for ferret's target-layer tests. Built by the
 * tests with gcc (-O0 -g -no-pie -pthread); addresses come from `nm`.
 *
 *   threads hits N       8 threads each call hit() N times, then done()
 *   threads churn N      N threads created and joined one by one, then done()
 *   threads watch        main writes `watched`, then a new thread does
 *   threads regs         calls with_xmm(1.5), then done()
 *   threads spin         4 threads spin forever
 *   threads loop N       one thread calls hit() N times, then done()
 *   threads env          prints its argv, FERRET_TEST, cwd and a stdin line
 *   threads heartbeat F  appends a line to F every 20 ms via beat(), forever
 *   threads mem MIB      fills one MIB MiB region with 0x5a, prints its
 *                        address, calls done(), then sleeps
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile long counter;
volatile long watched;
static long iterations;

__attribute__((noinline)) void hit(long i) { __atomic_fetch_add(&counter, i, __ATOMIC_SEQ_CST); }
__attribute__((noinline)) void done(void) { __asm__ volatile("nop"); }
__attribute__((noinline)) int beat(int n) { return n + 1; }
__attribute__((noinline)) double with_xmm(double d) {
    __asm__ volatile("" : "+x"(d));
    return d * 2;
}

static void *hitter(void *arg) {
    (void)arg;
    for (long i = 0; i < iterations; i++) hit(i);
    return NULL;
}

static void *short_lived(void *arg) { return arg; }

static void *writer(void *arg) {
    (void)arg;
    watched = 42;
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    for (;;) counter++;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "hits")) {
        iterations = atol(argv[2]);
        pthread_t t[8];
        for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, hitter, NULL);
        for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
        done();
        printf("counter %ld\n", counter);
    } else if (!strcmp(mode, "churn")) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) {
            pthread_t t;
            pthread_create(&t, NULL, short_lived, NULL);
            pthread_join(t, NULL);
        }
        done();
    } else if (!strcmp(mode, "watch")) {
        watched = 1;
        pthread_t t;
        pthread_create(&t, NULL, writer, NULL);
        pthread_join(t, NULL);
        done();
        printf("watched %ld\n", watched);
    } else if (!strcmp(mode, "regs")) {
        printf("%f\n", with_xmm(1.5));
        done();
    } else if (!strcmp(mode, "spin")) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, spinner, NULL);
        pthread_join(t[0], NULL);
    } else if (!strcmp(mode, "loop")) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) hit(i);
        done();
        printf("counter %ld\n", counter);
    } else if (!strcmp(mode, "env")) {
        char cwd[4096], line[256] = "";
        if (!getcwd(cwd, sizeof cwd)) return 3;
        if (!fgets(line, sizeof line, stdin)) line[0] = 0;
        line[strcspn(line, "\n")] = 0;
        printf("args");
        for (int i = 2; i < argc; i++) printf(" %s", argv[i]);
        printf("\nenv %s\ncwd %s\nstdin %s\n", getenv("FERRET_TEST") ? getenv("FERRET_TEST") : "(unset)", cwd, line);
        fprintf(stderr, "to stderr\n");
    } else if (!strcmp(mode, "heartbeat")) {
        FILE *f = fopen(argv[2], "a");
        if (!f) return 3;
        for (int n = 0;; n = beat(n)) {
            fprintf(f, "beat %d\n", n);
            fflush(f);
            usleep(20000);
        }
    } else if (!strcmp(mode, "mem")) {
        size_t size = (size_t)atol(argv[2]) << 20;
        unsigned char *region = malloc(size);
        if (!region) return 3;
        memset(region, 0x5a, size);
        printf("%p\n", (void *)region);
        fflush(stdout);
        done();
        pause();
    } else {
        return 2;
    }
    return 0;
}
