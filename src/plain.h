/*
 * plain.h: the plain transport, a connected non-blocking socket read with
 * recv(2) and written with send(2) and MSG_NOSIGNAL (see transport.h).
 */
#ifndef NETLUA_PLAIN_H
#define NETLUA_PLAIN_H

#include "transport.h"

/* Make t the plain transport over the connected socket fd. */
void plain_init(transport *t, int fd);

#endif
