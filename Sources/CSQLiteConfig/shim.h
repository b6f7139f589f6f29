#ifndef SAMVERKAN_CSQLITECONFIG_SHIM_H
#define SAMVERKAN_CSQLITECONFIG_SHIM_H

#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. Turns off SQLite's memory statistics:
   with them on, every allocation SQLite makes takes a process-wide mutex to count it (an eighth
   of the time of inserting 10,000 deadlines). Only sqlite3_memory_used() and the soft heap
   limit depend on them, and samverkand uses neither. Must run before SQLite is initialized
   (the first connection opened); returns SQLITE_MISUSE, changing nothing, after. */
static inline int samverkan_sqlite_memstatus_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
