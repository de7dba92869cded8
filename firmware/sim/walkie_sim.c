/*
 * walkie-sim: the walkie board simulator.
 *
 * Runs the real firmware (.elf) on a simulated ATmega328P at 16 MHz with
 * simavr, wired as firmware/walkie/config.h says (by default: a HD44780 on
 * RS=D12 E=D11 D4..D7=D5..D2, RW grounded; the PTT button from D7 to GND);
 * UART0 on a pty of its own (printed, and optionally linked at --link PATH).
 *
 * Control channel: commands on stdin, one per line; events on stdout, one
 * per line. The simavr parts print debug text on stdout, so the process's
 * stdout is redirected to /dev/null and events go to a private copy.
 *
 *   events:   pty /dev/pts/N          the board's serial port (first line)
 *             lcd|row 0|row 1|        the LCD, every time it changes; bytes
 *                                     outside 0x20..0x7e and '|' '\' are \xNN
 *             ok COMMAND | error TEXT the answer to every command
 *   commands: run      start the CPU (with --paused)
 *             press    hold the PTT button down
 *             release  let it go
 *             tap MS   press, and release after MS ms of simulated time
 *             reset    reset the MCU (the LCD keeps its state, as on a board)
 *             lcd      report the LCD now, changed or not
 *             quit     exit (so does end of input)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avr_extint.h"
#include "avr_ioport.h"
#include "avr_uart.h"
#include "button.h"
#include "hd44780.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_regbit.h"
#include "sim_time.h"
#include "walkie_sim.h"
#include "../walkie/config.h"

#define MCU "atmega328p"
#define FREQUENCY 16000000
#define CHECK_CYCLES (FREQUENCY / 1000)      /* service the host every 1 ms of AVR time */
#define MAX_BEHIND_NS (100 * 1000 * 1000LL)  /* real time: never race to catch up more */
#define MAX_COMMANDS 64
#define MAX_COMMAND_LEN 64

static avr_t *avr;
static hd44780_t lcd;
static button_t ptt;
static uart_pty_t uart;
static FILE *ctl;                 /* the control channel (the original stdout) */
static const char *link_path;
static int lcd_cols = 16, lcd_rows = 2;
static uint8_t reported[4][40];
static int have_reported;
static int button_down;

/* Commands travel from the stdin thread to the simulation thread here. */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static char queue[MAX_COMMANDS][MAX_COMMAND_LEN];
static int queue_head, queue_len;

static void cleanup_and_exit(int code)
{
	if (link_path)
		unlink(link_path);
	if (ctl)
		fflush(ctl);
	/* Not exit(): uart_pty's thread must not run atexit handlers or be
	 * stopped with uart_pty_stop(), which raises SIGINT in it. */
	_exit(code);
}

static void on_signal(int sig)
{
	(void)sig;
	cleanup_and_exit(0);
}

static void push_command(const char *line)
{
	pthread_mutex_lock(&queue_lock);
	if (queue_len < MAX_COMMANDS) {
		int slot = (queue_head + queue_len) % MAX_COMMANDS;
		snprintf(queue[slot], MAX_COMMAND_LEN, "%s", line);
		queue_len++;
	}
	pthread_mutex_unlock(&queue_lock);
}

static int pop_command(char *out)
{
	int got = 0;
	pthread_mutex_lock(&queue_lock);
	if (queue_len) {
		memcpy(out, queue[queue_head], MAX_COMMAND_LEN);
		queue_head = (queue_head + 1) % MAX_COMMANDS;
		queue_len--;
		got = 1;
	}
	pthread_mutex_unlock(&queue_lock);
	return got;
}

static void *stdin_thread(void *arg)
{
	(void)arg;
	char line[MAX_COMMAND_LEN];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0])
			push_command(line);
	}
	push_command("quit");
	return NULL;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* simavr's default sleep callback usleep()s; we pace time ourselves. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	(void)a;
	(void)how_long;
}

/* --- the LCD ------------------------------------------------------------- */

static uint8_t lcd_row_address(int row)
{
	/* Rows 2 and 3 continue rows 0 and 1 (16x4, 20x4). */
	return (uint8_t)(((row & 1) ? 0x40 : 0x00) + (row >= 2 ? lcd_cols : 0));
}

static void report_lcd(int force)
{
	int changed = !have_reported;
	for (int r = 0; r < lcd_rows; r++)
		if (memcmp(reported[r], lcd.vram + lcd_row_address(r), lcd_cols))
			changed = 1;
	if (!changed && !force)
		return;
	fputs("lcd|", ctl);
	for (int r = 0; r < lcd_rows; r++) {
		memcpy(reported[r], lcd.vram + lcd_row_address(r), lcd_cols);
		for (int c = 0; c < lcd_cols; c++) {
			uint8_t ch = reported[r][c];
			if (ch < 0x20 || ch > 0x7e || ch == '|' || ch == '\\')
				fprintf(ctl, "\\x%02x", ch);
			else
				fputc(ch, ctl);
		}
		fputc('|', ctl);
	}
	fputc('\n', ctl);
	fflush(ctl);
	have_reported = 1;
}

/* --- the wiring ------------------------------------------------------------ */

/* An Uno pin number, as config.h gives it, as the ATmega328P port and bit:
 * D0..D7 are PORTD, D8..D13 PORTB, A0..A5 (14..19) PORTC. */
struct mcu_pin {
	char port;
	int bit;
};

static struct mcu_pin uno_pin(int number)
{
	if (number < 8)
		return (struct mcu_pin){'D', number};
	if (number < 14)
		return (struct mcu_pin){'B', number - 8};
	return (struct mcu_pin){'C', number - 14};
}

static avr_irq_t *pin_irq(int number)
{
	struct mcu_pin pin = uno_pin(number);
	return avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(pin.port), pin.bit);
}

/* --- the PTT button ------------------------------------------------------ */

static void set_button(int pressed)
{
	/* Mark the PTT pin as driven from outside at each change: otherwise the
	 * next write to its port re-applies the pull-up and "releases" the button. */
	struct mcu_pin pin = uno_pin(WALKIE_PIN_PTT);
	uint8_t mask = (uint8_t)(1u << pin.bit);
	button_down = pressed;
	avr_ioport_external_t ext = {.name = pin.port, .mask = mask, .value = pressed ? 0 : mask};
	avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(pin.port), &ext);
	avr_raise_irq(ptt.irq + IRQ_BUTTON_OUT, pressed ? 0 : 1);
}

static avr_cycle_count_t auto_release(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)when;
	(void)param;
	set_button(0);
	return 0;
}

/* --- the MCU ------------------------------------------------------------- */

static void tune_mcu(void)
{
	/* simavr 1.6 treats INT0/INT1 (PD2/PD3: LCD D7/D6) as level-triggered
	 * while low and re-checks them every cycle: the simulation crawls. */
	avr_extint_set_strict_lvl_trig(avr, 0, 0);
	avr_extint_set_strict_lvl_trig(avr, 1, 0);
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr->sleep = no_sleep;
}

/* simavr 1.6 counts a parity bit in every UART frame whether parity is on
 * or not, so 8N1 bytes take 11 bit times instead of a real ATmega328P's 10
 * and the simulated line runs 10 % slow. Recompute the byte time from the
 * registers as the datasheet does, after the sketch configures the UART. */
static avr_uart_t *find_uart(char name)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next) {
		if (io->kind && !strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == name)
			return (avr_uart_t *)io;
	}
	return NULL;
}

static void correct_uart_byte_time(avr_uart_t *u)
{
	static const int databits[] = {5, 6, 7, 8, 8, 8, 8, 9};
	uint32_t ubrr = avr_regbit_get(avr, u->ubrrl) | (avr_regbit_get(avr, u->ubrrh) << 8);
	avr_cycle_count_t per_bit = (avr_cycle_count_t)(ubrr + 1) * (avr_regbit_get(avr, u->u2x) ? 8 : 16);
	int data = databits[avr_regbit_get(avr, u->ucsz) | (avr_regbit_get(avr, u->ucsz2) << 2)];
	int parity = (avr->data[u->r_ucsrc] & 0x30) ? 1 : 0; /* UPMn1:0 */
	int stop = 1 + avr_regbit_get(avr, u->usbs);
	avr_cycle_count_t want = per_bit * (avr_cycle_count_t)(1 + data + parity + stop);
	if (u->cycles_per_byte != want)
		u->cycles_per_byte = want;
}

static void connect_lcd_pin(int number, int lcd_irq)
{
	avr_connect_irq(pin_irq(number), lcd.irq + lcd_irq);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--realtime] [--paused] [--link PATH] [--size COLSxROWS] FIRMWARE.elf\n",
		argv0);
	_exit(2);
}

/* --- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	int realtime = 0, running = 1;
	const char *firmware = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--realtime"))
			realtime = 1;
		else if (!strcmp(argv[i], "--paused"))
			running = 0;
		else if (!strcmp(argv[i], "--link") && i + 1 < argc)
			link_path = argv[++i];
		else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (sscanf(argv[++i], "%dx%d", &lcd_cols, &lcd_rows) != 2 || lcd_cols < 1 ||
			    lcd_cols > 40 || lcd_rows < 1 || lcd_rows > 4)
				usage(argv[0]);
		} else if (argv[i][0] == '-' || firmware)
			usage(argv[0]);
		else
			firmware = argv[i];
	}
	if (!firmware)
		usage(argv[0]);

	/* Keep the parts' printf() chatter off the control channel. */
	int ctl_fd = dup(STDOUT_FILENO);
	int null_fd = open("/dev/null", O_WRONLY);
	if (ctl_fd < 0 || null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0) {
		perror("walkie-sim: stdout");
		return 1;
	}
	close(null_fd);
	ctl = fdopen(ctl_fd, "w");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	elf_firmware_t f;
	memset(&f, 0, sizeof(f));
	if (elf_read_firmware(firmware, &f) != 0 || f.flashsize == 0) {
		fprintf(stderr, "walkie-sim: cannot load firmware %s\n", firmware);
		return 1;
	}
	/* Arduino .elf files carry no .mmcu section. */
	snprintf(f.mmcu, sizeof(f.mmcu), "%s", MCU);
	f.frequency = FREQUENCY;
	avr = avr_make_mcu_by_name(MCU);
	if (!avr) {
		fprintf(stderr, "walkie-sim: simavr does not know %s\n", MCU);
		return 1;
	}
	avr_init(avr);
	avr_load_firmware(avr, &f);

	hd44780_init(avr, &lcd, lcd_cols, lcd_rows);
	memset(lcd.vram, ' ', 0x68);  /* the model clears only 80 bytes */
	connect_lcd_pin(WALKIE_PIN_LCD_RS, IRQ_HD44780_RS);
	connect_lcd_pin(WALKIE_PIN_LCD_E, IRQ_HD44780_E);
	connect_lcd_pin(WALKIE_PIN_LCD_D4, IRQ_HD44780_D4);
	connect_lcd_pin(WALKIE_PIN_LCD_D5, IRQ_HD44780_D5);
	connect_lcd_pin(WALKIE_PIN_LCD_D6, IRQ_HD44780_D6);
	connect_lcd_pin(WALKIE_PIN_LCD_D7, IRQ_HD44780_D7);
	avr_raise_irq(lcd.irq + IRQ_HD44780_RW, 0);

	button_init(avr, &ptt, "ptt");
	avr_connect_irq(ptt.irq + IRQ_BUTTON_OUT, pin_irq(WALKIE_PIN_PTT));
	set_button(0);

	uart_pty_init(avr, &uart);
	if (!uart.pty.s) {
		fprintf(stderr, "walkie-sim: cannot create a pty\n");
		return 1;
	}
	walkie_uart_pty_connect(&uart, '0');
	tune_mcu();
	avr_uart_t *uart0 = find_uart('0');

	if (link_path) {
		unlink(link_path);
		if (symlink(uart.pty.slavename, link_path) != 0) {
			fprintf(stderr, "walkie-sim: cannot link %s: %s\n", link_path, strerror(errno));
			link_path = NULL;
			cleanup_and_exit(1);
		}
	}
	fprintf(ctl, "pty %s\n", uart.pty.slavename);
	fflush(ctl);

	pthread_t reader;
	pthread_create(&reader, NULL, stdin_thread, NULL);

	int64_t wall_base = now_ns();
	avr_cycle_count_t cycle_base = avr->cycle;
	avr_cycle_count_t next_check = avr->cycle;
	char cmd[MAX_COMMAND_LEN];
	for (;;) {
		if (running) {
			int state = avr_run(avr);
			if (state == cpu_Done || state == cpu_Crashed) {
				fprintf(ctl, "error cpu stopped (state %d)\n", state);
				cleanup_and_exit(1);
			}
			if (avr->cycle < next_check)
				continue;
			next_check = avr->cycle + CHECK_CYCLES;
			if (uart0)
				correct_uart_byte_time(uart0);
			report_lcd(0);
			if (realtime) {
				int64_t sim_ns = (int64_t)((avr->cycle - cycle_base) * 1000 / (FREQUENCY / 1000000));
				int64_t ahead = sim_ns - (now_ns() - wall_base);
				if (ahead > 0) {
					struct timespec ts = {ahead / 1000000000LL, ahead % 1000000000LL};
					nanosleep(&ts, NULL);
				} else if (ahead < -MAX_BEHIND_NS) {
					wall_base = now_ns();
					cycle_base = avr->cycle;
				}
			}
		} else {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		while (pop_command(cmd)) {
			unsigned ms;
			if (!strcmp(cmd, "quit")) {
				fputs("ok quit\n", ctl);
				cleanup_and_exit(0);
			} else if (!strcmp(cmd, "run")) {
				if (!running) {
					running = 1;
					wall_base = now_ns();
					cycle_base = avr->cycle;
				}
			} else if (!strcmp(cmd, "press")) {
				avr_cycle_timer_cancel(avr, auto_release, NULL);
				set_button(1);
			} else if (!strcmp(cmd, "release")) {
				avr_cycle_timer_cancel(avr, auto_release, NULL);
				set_button(0);
			} else if (sscanf(cmd, "tap %u", &ms) == 1) {
				avr_cycle_timer_cancel(avr, auto_release, NULL);
				set_button(1);
				avr_cycle_timer_register_usec(avr, ms * 1000, auto_release, NULL);
			} else if (!strcmp(cmd, "reset")) {
				avr_reset(avr);
				/* simavr leaves MCUSR alone; a reset button sets EXTRF. */
				avr_regbit_set(avr, avr->reset_flags.extrf);
				tune_mcu();
				set_button(button_down);
			} else if (!strcmp(cmd, "lcd")) {
				report_lcd(1);
			} else {
				fprintf(ctl, "error unknown command: %s\n", cmd);
				fflush(ctl);
				continue;
			}
			fprintf(ctl, "ok %s\n", cmd);
			fflush(ctl);
		}
	}
}
