/* abort: starts two threads that sleep, then aborts (SIGABRT), for tests
 * of cores of programs that are not Go. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(void) {
    pthread_t t;
    for (int i = 0; i < 2; i++) pthread_create(&t, NULL, sleeper, NULL);
    usleep(50 * 1000);
    abort();
}
