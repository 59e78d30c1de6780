/* netdb.h — address translation for wasm32-wasi guests with no name service.
 *
 * wasi-libc has no <netdb.h>, and CPython 3.11 built without getaddrinfo() leaves
 * _socket.getaddrinfo out, so socket.create_connection() dies with AttributeError instead
 * of an OSError a program can catch.  A sandboxed guest has no resolver, no /etc/hosts
 * and no services database, so this getaddrinfo() translates numeric addresses and ports
 * only and answers every name with EAI_NONAME; getnameinfo() gives numeric forms and
 * gethostbyaddr() finds no host.  That is exactly the behaviour of a host whose resolver
 * knows no names.
 *
 * Installed as build/images/wasi/include/netdb.h for the python image only; the
 * implementation is netdb.c beside this file.  Constants follow musl's values.
 */
#ifndef ZVM_WASI_NETDB_H
#define ZVM_WASI_NETDB_H

#include <netinet/in.h>
#include <sys/socket.h>

struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

#define AI_PASSIVE 0x01
#define AI_CANONNAME 0x02
#define AI_NUMERICHOST 0x04
#define AI_V4MAPPED 0x08
#define AI_ALL 0x10
#define AI_ADDRCONFIG 0x20
#define AI_NUMERICSERV 0x400

#define NI_NUMERICHOST 0x01
#define NI_NUMERICSERV 0x02
#define NI_NOFQDN 0x04
#define NI_NAMEREQD 0x08
#define NI_DGRAM 0x10
#define NI_NUMERICSCOPE 0x100
#define NI_MAXHOST 255
#define NI_MAXSERV 32

#define EAI_BADFLAGS -1
#define EAI_NONAME -2
#define EAI_AGAIN -3
#define EAI_FAIL -4
#define EAI_FAMILY -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE -8
#define EAI_MEMORY -10
#define EAI_SYSTEM -11
#define EAI_OVERFLOW -12

struct hostent {
    char *h_name;
    char **h_aliases;
    int h_addrtype;
    int h_length;
    char **h_addr_list;
};
#define h_addr h_addr_list[0]

/* h_errno values */
#define HOST_NOT_FOUND 1
#define TRY_AGAIN 2
#define NO_RECOVERY 3
#define NO_DATA 4
#define NO_ADDRESS NO_DATA

extern int h_errno;    /* a guest has one thread */

int getaddrinfo(const char *__restrict node, const char *__restrict service, const struct addrinfo *__restrict hints,
                struct addrinfo **__restrict res);
void freeaddrinfo(struct addrinfo *ai);
const char *gai_strerror(int code);
int getnameinfo(const struct sockaddr *__restrict sa, socklen_t salen, char *__restrict host, socklen_t hostlen,
                char *__restrict serv, socklen_t servlen, int flags);
struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type);

#endif
