/* SPDX-License-Identifier: MIT */
/* hostel ctl PATH COMMAND [ARGS-JSON]: the control socket's client. */
#ifndef HOSTEL_CTL_H
#define HOSTEL_CTL_H

#include "cli.h"

#define CTL_EXIT_ERROR 1 /* the response was an error object */

/* Send one request, print its result; returns the exit status. */
int ctl_main(const struct hostel_opts *o);

#endif
