/* walkie_sim: declarations shared by the board simulator's sources. */
#ifndef WALKIE_SIM_H
#define WALKIE_SIM_H

#include "uart_pty.h"

/* Like uart_pty_connect(), without the shared /tmp/simavr-uart0 link. */
void walkie_uart_pty_connect(uart_pty_t *p, char uart);

#endif
