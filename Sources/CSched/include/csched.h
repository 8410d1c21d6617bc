// Linux CPU affinity for itsdump's helper threads (GNU extensions that Swift's Glibc module
// does not export: sched_getcpu is there, sched_{get,set}affinity and the CPU_SET macros are
// not). See Sources/CoreDumpReader/Background.swift.
#ifndef ITSDUMP_CSCHED_H
#define ITSDUMP_CSCHED_H

/// A CPU this process may run on other than the calling thread's current one, or -1.
int itsdump_other_cpu(void);

/// Moves the calling thread to `cpu` (restricted to it, the kernel moves it there), then gives
/// it back the CPUs it had: it stays where it is unless the scheduler has reason to move it,
/// and threads it starts may use every CPU. 0 on success.
int itsdump_move_to(int cpu);

#endif
