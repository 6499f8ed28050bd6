/* SPDX-License-Identifier: MIT */
/*
 * The control socket (docs/api.md): a Unix stream socket served from an
 * event loop. Each client gets its own line assembler and a bounded output
 * buffer; writes never block the loop, and a client that stops reading
 * while its responses pile up past API_OUT_MAX is disconnected.
 *
 * The server knows nothing of VMs: each parsed request goes to a handler.
 */
#ifndef HOSTEL_API_SERVER_H
#define HOSTEL_API_SERVER_H

#include <stddef.h>
#include "api/proto.h"
#include "evloop.h"
#include "hostel/compiler.h"

#define API_MAX_CLIENTS 8
#define API_OUT_MAX	(256u * 1024) /* bytes of responses queued for one client */

struct api_server;

/*
 * Carry out @req: return 0 with *@result an object (or NULL for {}), or
 * -1 with @err filled. Runs on the event loop thread.
 */
typedef int api_handler_fn(void *ctx, const struct api_request *req, cJSON **result,
			   struct api_error *err);

/*
 * Listen at @path with mode 0600. A stale socket (nothing listening) is
 * replaced; anything else at @path is refused. NULL and one line in @why.
 */
struct api_server *api_server_create(const char *path, api_handler_fn *fn, void *ctx, char *why,
				     size_t whylen) __must_check;

/* Serve from @el (its thread runs the handlers). 0 or -errno. */
int api_server_attach(struct api_server *srv, struct evloop *el) __must_check;

/*
 * Take @fd (a connected stream socket) as a client, as accept() does. Call
 * it on the loop thread, or from one other thread while no client comes
 * or goes (the unit test).
 */
int api_server_add_client(struct api_server *srv, int fd) __must_check;

/* Clients connected now (event loop thread, or while the loop is stopped). */
unsigned int api_server_nr_clients(const struct api_server *srv);

/* Close every client and the socket, remove the socket file. Loop stopped first. */
void api_server_destroy(struct api_server *srv);

#endif
