/*
 * uart_pty_part: simavr's uart_pty part (from the libsimavr-examples
 * tarball, extracted at build time) plus a connect function of our own.
 *
 * The part's own uart_pty_connect() always points the shared link
 * /tmp/simavr-uart0 at its pty, so two simulators running side by side
 * would fight over it. walkie_uart_pty_connect() wires the same IRQs and
 * leaves /tmp alone; its hooks are static in the part, hence the #include.
 */
#include "uart_pty.c"

#include "walkie_sim.h"

void walkie_uart_pty_connect(uart_pty_t *p, char uart)
{
	uint32_t flags = 0;
	avr_ioctl(p->avr, AVR_IOCTL_UART_GET_FLAGS(uart), &flags);
	flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(p->avr, AVR_IOCTL_UART_SET_FLAGS(uart), &flags);

	avr_irq_t *src = avr_io_getirq(p->avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUTPUT);
	avr_irq_t *dst = avr_io_getirq(p->avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_INPUT);
	avr_irq_t *xon = avr_io_getirq(p->avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XON);
	avr_irq_t *xoff = avr_io_getirq(p->avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XOFF);
	if (src && dst) {
		avr_connect_irq(src, p->irq + IRQ_UART_PTY_BYTE_IN);
		avr_connect_irq(p->irq + IRQ_UART_PTY_BYTE_OUT, dst);
	}
	if (xon)
		avr_irq_register_notify(xon, uart_pty_xon_hook, p);
	if (xoff)
		avr_irq_register_notify(xoff, uart_pty_xoff_hook, p);
}
