/* See broker_token.h. */
#define _POSIX_C_SOURCE 200809L
#include "broker_token.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "broker_server.h"
#include "mbws_fault.h"

size_t broker_new_token(void *app, char *buf, size_t cap)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    unsigned char rnd[24];
    if (cap < sizeof rnd + 1)
        return 0;
    if (mbws_fault_on(broker_fault(app), MBWS_FAULT_RES_REUSED_TOKEN))
        return (size_t)snprintf(buf, cap, "%s", "fault-reused-token");
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    close(fd);
    for (size_t i = 0; i < sizeof rnd; i++)
        buf[i] = abc[rnd[i] & 63];
    buf[sizeof rnd] = 0;
    return sizeof rnd;
}
