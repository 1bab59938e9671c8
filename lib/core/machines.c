/*
 * machines.c: parsing and checking a machine list (see machines.h).  Pure
 * text work: nothing here opens a socket.
 */
#include "quant/machines.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* 0 when s is a dotted IPv4 address a machine can be reached at. */
static int host_ok(const char *s, char *why, size_t whysz)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        snprintf(why, whysz, "'%s' is not an IPv4 address (host names are not resolved: "
                 "write the address, e.g. 127.0.0.1 or 10.0.0.5)", s);
        return -1;
    }
    uint32_t h = ntohl(a.s_addr);
    if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe) {
        snprintf(why, whysz, "%s is not one machine's address (0.0.0.0, broadcast and "
                 "multicast are refused): write the address the other ranks reach it at", s);
        return -1;
    }
    return 0;
}

/* One "host:port" entry (trimmed, NUL-terminated) into m. */
static enum quant_code parse_entry(const char *e, struct quant_machine *m, struct quant_err *err)
{
    const char *colon = strrchr(e, ':');
    if (!colon || colon == e || !colon[1])
        return quant_err_set(err, QUANT_EINVAL, "machine '%.60s' is not host:port; write e.g. "
                             "127.0.0.1:12400", e);
    size_t hl = (size_t)(colon - e);
    if (hl >= sizeof m->host)
        return quant_err_set(err, QUANT_EINVAL, "machine '%.60s': the host is not an IPv4 "
                             "address; write e.g. 127.0.0.1:12400", e);
    memcpy(m->host, e, hl);
    m->host[hl] = '\0';
    char why[200];
    if (host_ok(m->host, why, sizeof why) != 0)
        return quant_err_set(err, QUANT_EINVAL, "machine '%.60s': %s", e, why);
    char *end = NULL;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || errno || p < 1 || p > 65534)
        return quant_err_set(err, QUANT_EINVAL, "machine '%.60s': the port must be a number "
                             "from 1 to 65534 (rank 0 also uses port + 1)", e);
    m->port = (int)p;
    return QUANT_OK;
}

static enum quant_code check_list(const struct quant_machines *out, struct quant_err *err)
{
    if (out->n < 2)
        return quant_err_set(err, QUANT_EINVAL, "--machines lists %zu machine%s; a pooled "
                             "training across machines needs at least 2 (for one machine, "
                             "leave --machines out)", out->n, out->n == 1 ? "" : "s");
    for (size_t i = 0; i < out->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->m[i].host, out->m[j].host) == 0 && out->m[i].port == out->m[j].port)
                return quant_err_set(err, QUANT_EINVAL, "machine %s:%d is listed twice "
                                     "(entries %zu and %zu); give each rank its own host:port",
                                     out->m[i].host, out->m[i].port, j + 1, i + 1);
    /* quant's channel listens on rank 0's port + 1 (machines.h). */
    for (size_t i = 1; i < out->n; i++)
        if (strcmp(out->m[i].host, out->m[0].host) == 0 && out->m[i].port == out->m[0].port + 1)
            return quant_err_set(err, QUANT_EINVAL, "machine %s:%d is rank 0's port + 1, "
                                 "which rank 0 uses for quant's own channel; leave a gap "
                                 "after rank 0's port", out->m[i].host, out->m[i].port);
    return QUANT_OK;
}

enum quant_code quant_machines_parse(const char *text, struct quant_machines *out,
                                     struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return quant_err_set(err, QUANT_EINVAL, "no machine list given");
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        /* A comment runs to the end of its line, commas and all. */
        size_t len = strcspn(p, *p == '#' ? "\n" : ",\n");
        const char *next = p[len] ? p + len + 1 : p + len;
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0 || *p == '#') {
            p = next;
            continue;
        }
        char e[96];
        if (len >= sizeof e)
            return quant_err_set(err, QUANT_EINVAL, "machine '%.40s...' is too long to be "
                                 "host:port", p);
        memcpy(e, p, len);
        e[len] = '\0';
        if (out->n == QUANT_MACHINES_MAX)
            return quant_err_set(err, QUANT_EINVAL, "more than %d machines listed",
                                 QUANT_MACHINES_MAX);
        enum quant_code rc = parse_entry(e, &out->m[out->n], err);
        if (rc)
            return rc;
        out->n++;
        p = next;
    }
    return check_list(out, err);
}

int quant_machines_format(const struct quant_machines *m, char *out, size_t outsz)
{
    size_t used = 0;
    if (outsz)
        out[0] = '\0';
    for (size_t i = 0; i < m->n; i++) {
        int w = snprintf(out + used, outsz - used, "%s%s:%d", i ? "," : "", m->m[i].host,
                         m->m[i].port);
        if (w < 0 || (size_t)w >= outsz - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}
