#define _GNU_SOURCE
#include <sched.h>
#include "csched.h"

int itsdump_other_cpu(void) {
    int here = sched_getcpu();
    cpu_set_t allowed;
    if (here < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (cpu != here && CPU_ISSET(cpu, &allowed)) return cpu;
    }
    return -1;
}

int itsdump_move_to(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    cpu_set_t had, one;
    if (sched_getaffinity(0, sizeof had, &had) != 0) return -1;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return -1;
    return sched_setaffinity(0, sizeof had, &had);
}
