/* netdb.c — getaddrinfo() and friends for a guest with no name service (see netdb.h).
 *
 * Numeric hosts ("192.0.2.1", "::1") and numeric ports are translated as any libc
 * would; a host name gets EAI_NONAME, a service name EAI_SERVICE and a reverse lookup
 * HOST_NOT_FOUND, because the sandbox has nothing to look them up in.  Each result is one allocation holding the
 * addrinfo, its socket address and its canonical name, so freeaddrinfo() is one free
 * per element.
 */
#include <netdb.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h_errno;

#define KNOWN_AI_FLAGS \
    (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG | AI_NUMERICSERV)

/* One parsed address, before it is multiplied by socket types. */
struct numeric_host {
    int family;
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;
};

/* "80" -> 80.  Anything else is a service name, which we cannot look up. */
static int parse_port(const char *service, int flags, in_port_t *port)
{
    if (!service) {
        *port = 0;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long n = strtoul(service, &end, 10);
    if (service[0] >= '0' && service[0] <= '9' && *end == '\0' && errno == 0 && n <= 65535) {
        *port = htons((uint16_t)n);
        return 0;
    }
    return (flags & AI_NUMERICSERV) ? EAI_NONAME : EAI_SERVICE;
}

/* The host part: NULL means the wildcard (AI_PASSIVE) or the loopback address. */
static int parse_host(const char *node, int family, int flags, struct numeric_host *h)
{
    if (!node) {
        /* With AF_UNSPEC we answer IPv4 only: the python image is built without IPv6. */
        h->family = family == AF_INET6 ? AF_INET6 : AF_INET;
        if (h->family == AF_INET)
            h->addr.v4.s_addr = htonl((flags & AI_PASSIVE) ? INADDR_ANY : INADDR_LOOPBACK);
        else
            h->addr.v6 = (flags & AI_PASSIVE) ? in6addr_any : in6addr_loopback;
        return 0;
    }
    if (family != AF_INET6 && inet_pton(AF_INET, node, &h->addr.v4) == 1) {
        h->family = AF_INET;
        return 0;
    }
    if (family != AF_INET && inet_pton(AF_INET6, node, &h->addr.v6) == 1) {
        h->family = AF_INET6;
        return 0;
    }
    return EAI_NONAME;    /* a name, or an address of another family: nothing to resolve it with */
}

static struct addrinfo *new_result(const struct numeric_host *h, in_port_t port, int socktype, const char *canonname)
{
    size_t addrlen = h->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    size_t namelen = canonname ? strlen(canonname) + 1 : 0;
    /* addrinfo, then the sockaddr (aligned as the largest scalar), then the name */
    size_t head = (sizeof(struct addrinfo) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    char *block = calloc(1, head + addrlen + namelen);
    if (!block)
        return NULL;
    struct addrinfo *ai = (struct addrinfo *)block;
    ai->ai_family = h->family;
    ai->ai_socktype = socktype;
    ai->ai_protocol = socktype == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    ai->ai_addrlen = (socklen_t)addrlen;
    ai->ai_addr = (struct sockaddr *)(block + head);
    if (h->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
        sin->sin_family = AF_INET;
        sin->sin_port = port;
        sin->sin_addr = h->addr.v4;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ai->ai_addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = port;
        sin6->sin6_addr = h->addr.v6;
    }
    if (canonname) {
        ai->ai_canonname = block + head + addrlen;
        memcpy(ai->ai_canonname, canonname, namelen);
    }
    return ai;
}

int getaddrinfo(const char *restrict node, const char *restrict service, const struct addrinfo *restrict hints,
                struct addrinfo **restrict res)
{
    int flags = hints ? hints->ai_flags : 0;
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int socktype = hints ? hints->ai_socktype : 0;
    int protocol = hints ? hints->ai_protocol : 0;

    *res = NULL;
    if (flags & ~KNOWN_AI_FLAGS)
        return EAI_BADFLAGS;
    if (!node && !service)
        return EAI_NONAME;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM)
        return EAI_SOCKTYPE;
    if ((socktype == SOCK_STREAM && protocol != 0 && protocol != IPPROTO_TCP) ||
        (socktype == SOCK_DGRAM && protocol != 0 && protocol != IPPROTO_UDP))
        return EAI_SERVICE;

    in_port_t port;
    struct numeric_host host;
    int rc = parse_port(service, flags, &port);
    if (rc == 0)
        rc = parse_host(node, family, flags, &host);
    if (rc != 0)
        return rc;

    /* No socket type asked for: one result per type, as other libcs do (protocol may pick one). */
    int types[2], ntypes = 0;
    if (socktype == SOCK_STREAM || (socktype == 0 && (protocol == 0 || protocol == IPPROTO_TCP)))
        types[ntypes++] = SOCK_STREAM;
    if (socktype == SOCK_DGRAM || (socktype == 0 && (protocol == 0 || protocol == IPPROTO_UDP)))
        types[ntypes++] = SOCK_DGRAM;
    if (ntypes == 0)
        return EAI_SERVICE;

    struct addrinfo **tail = res;
    for (int i = 0; i < ntypes; i++) {
        /* the canonical name of a numeric host is the host as given, on the first result only */
        const char *canon = (i == 0 && (flags & AI_CANONNAME)) ? node : NULL;
        struct addrinfo *ai = new_result(&host, port, types[i], canon);
        if (!ai) {
            freeaddrinfo(*res);
            *res = NULL;
            return EAI_MEMORY;
        }
        *tail = ai;
        tail = &ai->ai_next;
    }
    return 0;
}

void freeaddrinfo(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;
        free(ai);
        ai = next;
    }
}

const char *gai_strerror(int code)
{
    switch (code) {
    case 0: return "Success";
    case EAI_BADFLAGS: return "Invalid flags";
    case EAI_NONAME: return "Name does not resolve (this sandbox has no name service)";
    case EAI_AGAIN: return "Temporary failure in name resolution";
    case EAI_FAIL: return "Non-recoverable failure in name resolution";
    case EAI_FAMILY: return "Unrecognized address family or invalid length";
    case EAI_SOCKTYPE: return "Unrecognized socket type";
    case EAI_SERVICE: return "Unrecognized service (this sandbox has no services database)";
    case EAI_MEMORY: return "Out of memory";
    case EAI_SYSTEM: return "System error";
    case EAI_OVERFLOW: return "Overflow";
    default: return "Unknown error";
    }
}

int getnameinfo(const struct sockaddr *restrict sa, socklen_t salen, char *restrict host, socklen_t hostlen,
                char *restrict serv, socklen_t servlen, int flags)
{
    const void *addr;
    in_port_t port;
    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        addr = &((const struct sockaddr_in *)sa)->sin_addr;
        port = ((const struct sockaddr_in *)sa)->sin_port;
    } else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        port = ((const struct sockaddr_in6 *)sa)->sin6_port;
    } else {
        return EAI_FAMILY;
    }
    if (host && hostlen > 0) {
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;    /* a name was required, and there is none to find */
        if (!inet_ntop(sa->sa_family, addr, host, hostlen))
            return EAI_OVERFLOW;
    }
    if (serv && servlen > 0) {
        int n = snprintf(serv, servlen, "%u", (unsigned)ntohs(port));
        if (n < 0 || (socklen_t)n >= servlen)
            return EAI_OVERFLOW;
    }
    return 0;
}

/* Reverse lookup needs a name service; there is none, so no address has a host name. */
struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
    (void)addr;
    (void)len;
    (void)type;
    h_errno = HOST_NOT_FOUND;
    return NULL;
}
