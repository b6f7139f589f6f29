#ifndef SAMVERKAN_CSYSTEMD_SHIM_H
#define SAMVERKAN_CSYSTEMD_SHIM_H

#include <stdint.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/timerfd.h>

/* glibc hides struct ucred behind _GNU_SOURCE; SO_PEERCRED fills this layout. */
typedef struct {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} cs_ucred;

#endif
