/*
 * net.c — network channels: a framed, token-checked byte stream over TCP (the protocol is in
 * net.h).  Sockets are non-blocking and every wait is a poll() bounded by the deadline, so a
 * peer that never connects, stalls or vanishes ends the session's transfer with an error within
 * its Timeout.  poll() also returns early with EINTR when the session's timer signals; the loops
 * then recompute the time left, which is none once the Timeout has passed.
 */
#include "channel/net.h"

#include "channel/channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HELLO_MAGIC "ZVMCHAN1"
#define HELLO_MAGIC_SIZE 8
#define MAX_TOKEN 64
#define MAX_FRAME (1u << 30)
/* The end frame's length: END_WITH_MD5 is followed by the writer's digest, END_BARE is not (a
 * writer whose etag is off keeps no digest). */
#define END_WITH_MD5 0u
#define END_BARE 0xffffffffu
/* A connection that does not say its hello within this long is dropped (a legitimate peer sends
 * it with its connect), so a stranger cannot hold a listener for long. */
#define HELLO_WAIT_MS 5000
/* Retries of a refused connect (the listener's session may not have started yet). */
#define RETRY_FIRST_MS 10
#define RETRY_MAX_MS 200
/* How long a failed writer tries to reach a reader that has not connected, to tell it. */
#define ABORT_WAIT_MS 2000

typedef struct net_uri {
    bool listen;
    int inherited_fd;          /* tcp-listen://fd:N/...: N; else -1 */
    char host[256];
    char port[8];
    char token[MAX_TOKEN + 1];
} net_uri;

struct channel_net {
    net_uri uri;
    bool writer;
    int listen_fd;             /* listener until its peer is accepted; else -1 */
    int fd;                    /* the connection; -1 until made */
    bool has_deadline;
    struct timespec deadline;
    uint32_t frame_left;       /* reader: data bytes left in the current frame */
    bool ended;                /* reader: the end frame arrived; writer: it was sent */
    bool broken;               /* a failure left the stream in an unknown state */
    unsigned char peer_md5[NET_MD5_SIZE];
    bool has_peer_md5;         /* reader: the end frame carried a digest */
    char error[256];
};

static const char *const CONNECT_SCHEME = "tcp://", *const LISTEN_SCHEME = "tcp-listen://";

static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

/* Splits a uri into its parts; NULL when it is well formed, else what is wrong. */
static const char *parse_uri(const char *uri, net_uri *out)
{
    memset(out, 0, sizeof *out);
    out->inherited_fd = -1;
    const char *p;
    if (strncmp(uri, CONNECT_SCHEME, strlen(CONNECT_SCHEME)) == 0)
        p = uri + strlen(CONNECT_SCHEME);
    else if (strncmp(uri, LISTEN_SCHEME, strlen(LISTEN_SCHEME)) == 0) {
        p = uri + strlen(LISTEN_SCHEME);
        out->listen = true;
    } else
        return "a network channel is tcp://HOST:PORT/TOKEN (connect) or tcp-listen://HOST:PORT/TOKEN (listen); "
               "2014's tcp:<node>:<port> needed a name service, which zvm does not have";
    const char *host = p, *host_end;
    if (*p == '[') {   /* [IPv6] */
        host++;
        host_end = strchr(host, ']');
        if (!host_end)
            return "an IPv6 address needs its closing ']'";
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    if (*p != ':')
        return "no :PORT after the host (tcp://HOST:PORT/TOKEN)";
    if (host_end == host || (size_t)(host_end - host) >= sizeof out->host)
        return "the host is empty or too long";
    memcpy(out->host, host, (size_t)(host_end - host));
    const char *port = ++p;
    while (*p >= '0' && *p <= '9')
        p++;
    char *end;
    long num = strtol(port, &end, 10);
    if (p == port || end != p || p - port > 5)
        return "the port must be a number";
    if (*p != '/')
        return "no /TOKEN after the port: every network channel names its job's secret token";
    memcpy(out->port, port, (size_t)(p - port));
    const char *token = ++p;
    size_t len = strlen(token);
    if (len == 0 || len > MAX_TOKEN)
        return "the token must be 1 to 64 characters";
    for (size_t i = 0; i < len; i++)
        if (!token_char(token[i]))
            return "the token may hold only letters, digits, '-', '_' and '.'";
    memcpy(out->token, token, len);
    if (out->listen && strcmp(out->host, "fd") == 0) {
        if (num > INT_MAX)
            return "fd:N names a descriptor number";
        out->inherited_fd = (int)num;
    } else if (num < 1 || num > 65535)
        return "the port must be 1 to 65535";
    return NULL;
}

const char *zvm_channel_network_uri_problem(const char *uri)
{
    net_uri parsed;
    return parse_uri(uri, &parsed);
}

bool zvm_channel_uri_is_network(const char *uri)
{
    return strncmp(uri, "tcp:", 4) == 0 || strncmp(uri, LISTEN_SCHEME, strlen(LISTEN_SCHEME)) == 0;
}

static int net_fail(channel_net *n, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int net_fail(channel_net *n, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->error, sizeof n->error, fmt, ap);
    va_end(ap);
    return -errnum;
}

/* Milliseconds left before the deadline for poll(): -1 without one, 0 once it passed. */
static int ms_left(const channel_net *n)
{
    if (!n->has_deadline)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms =
        (int64_t)(n->deadline.tv_sec - now.tv_sec) * 1000 + (n->deadline.tv_nsec - now.tv_nsec + 999999) / 1000000;
    return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Waits until fd is ready for events, at most limit_ms (-1: until the deadline).  Returns 0,
 * -ETIMEDOUT when the deadline (or limit) passed. */
static int wait_for(channel_net *n, int fd, short events, int limit_ms)
{
    for (;;) {
        int left = ms_left(n);
        if (limit_ms >= 0 && (left < 0 || limit_ms < left))
            left = limit_ms;
        if (left == 0)
            return -ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, left);
        if (r > 0)
            return 0;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
        /* EINTR: the session's timer, or another signal; the time left decides */
        if (limit_ms > 0)
            limit_ms = limit_ms > 10 ? limit_ms - 10 : 1;
    }
}

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int resolve(channel_net *n, struct addrinfo **res)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    if (n->uri.listen)
        hints.ai_flags |= AI_PASSIVE;
    int rc = getaddrinfo(n->uri.host, n->uri.port, &hints, res);
    if (rc != 0)
        return net_fail(n, rc == EAI_SYSTEM ? errno : EHOSTUNREACH, "cannot resolve %s: %s", n->uri.host,
                        gai_strerror(rc));
    return 0;
}

static int listen_on_address(channel_net *n)
{
    struct addrinfo *res;
    int rc = resolve(n, &res);
    if (rc)
        return rc;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return net_fail(n, e, "cannot listen on %s:%s: %s", n->uri.host, n->uri.port, strerror(e));
    }
    freeaddrinfo(res);
    n->listen_fd = fd;
    return 0;
}

/* tcp-listen://fd:N: the socket is zvm's descriptor N, already listening; the channel owns it. */
static int take_inherited(channel_net *n)
{
    int fd = n->uri.inherited_fd, listening = 0;
    socklen_t len = sizeof listening;
    if (fcntl(fd, F_GETFD) < 0)
        return net_fail(n, EBADF,
                        "descriptor %d is not open (tcp-listen://fd:N names a listening socket zvm inherited)", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        return net_fail(n, EINVAL, "descriptor %d is not a listening socket", fd);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    set_nonblocking(fd);
    n->listen_fd = fd;
    return 0;
}

int channel_net_open(const char *uri, bool writer, channel_net **out, char *why, size_t why_size)
{
    channel_net *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(why, why_size, "out of memory");
        return -ENOMEM;
    }
    n->writer = writer;
    n->listen_fd = n->fd = -1;
    const char *problem = parse_uri(uri, &n->uri);
    int rc = problem ? net_fail(n, EINVAL, "%s", problem) : 0;
    if (rc == 0 && n->uri.listen)
        rc = n->uri.inherited_fd >= 0 ? take_inherited(n) : listen_on_address(n);
    if (rc != 0) {
        snprintf(why, why_size, "%s", n->error);
        channel_net_close(n);
        return rc;
    }
    *out = n;
    return 0;
}

void channel_net_close(channel_net *n)
{
    if (!n)
        return;
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    if (n->fd >= 0)
        close(n->fd);
    free(n);
}

void channel_net_set_deadline(channel_net *n, const struct timespec *deadline)
{
    n->has_deadline = deadline != NULL;
    if (deadline)
        n->deadline = *deadline;
}

const unsigned char *channel_net_peer_md5(const channel_net *n)
{
    return n->has_peer_md5 ? n->peer_md5 : NULL;
}
const char *channel_net_error(const channel_net *n)
{
    return n->error;
}

/* Sends every byte of iov (never raising SIGPIPE); 0 or -errno. */
static int send_all(channel_net *n, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
        ssize_t sent = sendmsg(n->fd, &msg, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                int rc = wait_for(n, n->fd, POLLOUT, -1);
                if (rc)
                    return rc;
                continue;
            }
            return -(errno == ECONNRESET ? EPIPE : errno);
        }
        while (iovcnt > 0 && (size_t)sent >= iov->iov_len) {
            sent -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + sent;
            iov->iov_len -= (size_t)sent;
        }
    }
    return 0;
}

/* Receives exactly size bytes within limit_ms (-1: the deadline); 0, -ECONNRESET at an early
 * end of the stream, or -errno. */
static int recv_all(channel_net *n, int fd, void *buf, size_t size, int limit_ms)
{
    size_t got = 0;
    while (got < size) {
        ssize_t r = recv(fd, (char *)buf + got, size - got, 0);
        if (r == 0)
            return -ECONNRESET;
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        int rc = wait_for(n, fd, POLLIN, limit_ms);
        if (rc)
            return rc;
    }
    return 0;
}

/* Frames go out as they are written (no Nagle delay behind a small one), into large buffers. */
static void tune_socket(int fd)
{
    int one = 1, size = 4 << 20;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static const char *wait_problem(int rc)
{
    return rc == -ETIMEDOUT ? "the session's Timeout passed" : strerror(-rc);
}

/* Accepts connections until one says the right hello; the listening socket is then closed. */
static int accept_peer(channel_net *n)
{
    for (;;) {
        int rc = wait_for(n, n->listen_fd, POLLIN, -1);
        if (rc)
            return net_fail(n, -rc, "no peer connected to tcp-listen://%s:%s (%s)", n->uri.host, n->uri.port,
                            wait_problem(rc));
        int fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                continue;
            return net_fail(n, errno, "accept on tcp-listen://%s:%s: %s", n->uri.host, n->uri.port, strerror(errno));
        }
        unsigned char hello[HELLO_MAGIC_SIZE + 1 + MAX_TOKEN];
        size_t token_len = strlen(n->uri.token);
        rc = recv_all(n, fd, hello, HELLO_MAGIC_SIZE + 1, HELLO_WAIT_MS);
        bool ok = rc == 0 && memcmp(hello, HELLO_MAGIC, HELLO_MAGIC_SIZE) == 0 && hello[HELLO_MAGIC_SIZE] == token_len;
        if (ok)
            ok = recv_all(n, fd, hello + HELLO_MAGIC_SIZE + 1, token_len, HELLO_WAIT_MS) == 0;
        /* Every byte compared whatever differs, so timing tells a stranger nothing of the token. */
        unsigned char diff = 0;
        for (size_t i = 0; ok && i < token_len; i++)
            diff |= (unsigned char)(hello[HELLO_MAGIC_SIZE + 1 + i] ^ (unsigned char)n->uri.token[i]);
        if (ok && diff == 0) {
            close(n->listen_fd);
            n->listen_fd = -1;
            n->fd = fd;
            tune_socket(fd);
            return 0;
        }
        close(fd);   /* another job's node, a stranger, or a peer too slow to say hello */
    }
}

static int retry_pause(channel_net *n, int *pause_ms)
{
    int left = ms_left(n);
    if (left == 0)
        return -ETIMEDOUT;
    int ms = left > 0 && left < *pause_ms ? left : *pause_ms;
    poll(NULL, 0, ms);
    *pause_ms = *pause_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *pause_ms * 2;
    return 0;
}

/* One connect attempt to one address: the socket, or -errno. */
static int connect_once(channel_net *n, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno == EINPROGRESS ? wait_for(n, fd, POLLOUT, -1) : -errno;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0)
            rc = -soerr;
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* The connector's hello in buf; returns its length. */
static size_t hello_bytes(const channel_net *n, unsigned char *buf)
{
    size_t token_len = strlen(n->uri.token);
    memcpy(buf, HELLO_MAGIC, HELLO_MAGIC_SIZE);
    buf[HELLO_MAGIC_SIZE] = (unsigned char)token_len;
    memcpy(buf + HELLO_MAGIC_SIZE + 1, n->uri.token, token_len);
    return HELLO_MAGIC_SIZE + 1 + token_len;
}

/* Connects (retrying while the listener refuses: its session may start later) and says hello. */
static int connect_peer(channel_net *n)
{
    struct addrinfo *res;
    int rc = resolve(n, &res), pause_ms = RETRY_FIRST_MS;
    if (rc)
        return rc;
    for (;;) {
        int fd = connect_once(n, res);
        if (fd >= 0) {
            n->fd = fd;
            break;
        }
        bool retry = fd == -ECONNREFUSED || fd == -ECONNRESET || fd == -EAGAIN;
        if (retry && retry_pause(n, &pause_ms) == 0)
            continue;
        freeaddrinfo(res);
        if (retry || fd == -ETIMEDOUT)
            return net_fail(n, ETIMEDOUT,
                            "cannot connect to tcp://%s:%s: nobody listened there before the session's Timeout",
                            n->uri.host, n->uri.port);
        return net_fail(n, -fd, "cannot connect to tcp://%s:%s: %s", n->uri.host, n->uri.port, strerror(-fd));
    }
    freeaddrinfo(res);
    tune_socket(n->fd);
    unsigned char hello[HELLO_MAGIC_SIZE + 1 + MAX_TOKEN];
    struct iovec iov = { hello, hello_bytes(n, hello) };
    rc = send_all(n, &iov, 1);
    return rc ? net_fail(n, -rc, "cannot greet tcp://%s:%s: %s", n->uri.host, n->uri.port, wait_problem(rc)) : 0;
}

static int establish(channel_net *n)
{
    if (n->broken)
        return -EIO;
    if (n->fd >= 0)
        return 0;
    int rc = n->uri.listen ? accept_peer(n) : connect_peer(n);
    if (rc)
        n->broken = true;
    return rc;
}

int64_t channel_net_read(channel_net *n, void *buf, size_t size)
{
    int rc = establish(n);
    if (rc)
        return rc;
    while (!n->ended && n->frame_left == 0) {
        unsigned char header[4];
        rc = recv_all(n, n->fd, header, sizeof header, -1);
        if (rc == 0) {
            n->frame_left =
                (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 | header[3];
            if (n->frame_left == END_BARE) {
                n->frame_left = 0;
                n->ended = true;
            } else if (n->frame_left > MAX_FRAME)
                rc = -EPROTO;
            else if (n->frame_left == END_WITH_MD5 && (rc = recv_all(n, n->fd, n->peer_md5, NET_MD5_SIZE, -1)) == 0)
                n->ended = n->has_peer_md5 = true;
        }
        if (rc) {
            n->broken = true;
            if (rc == -ECONNRESET || rc == -EPROTO)
                return net_fail(n, EIO, "the writer's stream ended without its end frame (it failed or was killed)");
            return net_fail(n, -rc, "reading the stream: %s", wait_problem(rc));
        }
    }
    if (n->ended)
        return 0;
    if (size > n->frame_left)
        size = n->frame_left;
    for (;;) {
        ssize_t got = recv(n->fd, buf, size, 0);
        if (got > 0) {
            n->frame_left -= (uint32_t)got;
            return got;
        }
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            n->broken = true;
            return net_fail(n, EIO, "the writer's stream ended without its end frame (it failed or was killed)");
        }
        rc = wait_for(n, n->fd, POLLIN, -1);
        if (rc) {
            n->broken = true;
            return net_fail(n, -rc, "reading the stream: %s", wait_problem(rc));
        }
    }
}

/* One frame: the 4-byte length (or end marker), then payload_size bytes. */
static int send_frame(channel_net *n, uint32_t len, const void *payload, size_t payload_size, const char *what)
{
    int rc = establish(n);
    if (rc)
        return rc;
    unsigned char header[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                                (unsigned char)len };
    struct iovec iov[2] = { { header, sizeof header }, { (void *)payload, payload_size } };
    rc = send_all(n, iov, payload_size ? 2 : 1);
    if (rc) {
        n->broken = true;
        return net_fail(n, -rc, "sending %s: %s", what,
                        rc == -EPIPE ? "the reader is gone (it ended or failed)" : wait_problem(rc));
    }
    return 0;
}

int64_t channel_net_write(channel_net *n, const void *buf, size_t size)
{
    if (size > MAX_FRAME)
        size = MAX_FRAME;
    int rc = send_frame(n, (uint32_t)size, buf, size, "data");
    return rc ? rc : (int64_t)size;
}

void channel_net_abort(channel_net *n)
{
    if (n->ended || !n->writer)
        return;
    n->ended = true;
    if (n->fd >= 0 || n->broken)
        return;   /* closing it without the end frame says it all */
    if (n->listen_fd >= 0) {   /* a reader already waiting in the backlog learns it now */
        int fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        return;
    }
    /* A reader not listening yet gets ABORT_WAIT_MS to appear; after that it learns at its own
     * Timeout. */
    struct timespec soon;
    clock_gettime(CLOCK_MONOTONIC, &soon);
    soon.tv_sec += ABORT_WAIT_MS / 1000;
    if (!n->has_deadline || soon.tv_sec < n->deadline.tv_sec)
        channel_net_set_deadline(n, &soon);
    connect_peer(n);   /* the hello, then the close without an end frame */
}

int channel_net_finish(channel_net *n, const unsigned char md5[NET_MD5_SIZE])
{
    if (n->ended)
        return 0;
    int rc = md5 ? send_frame(n, END_WITH_MD5, md5, NET_MD5_SIZE, "the end of the stream")
                 : send_frame(n, END_BARE, NULL, 0, "the end of the stream");
    if (rc == 0) {
        n->ended = true;
        shutdown(n->fd, SHUT_WR);
    }
    return rc;
}
